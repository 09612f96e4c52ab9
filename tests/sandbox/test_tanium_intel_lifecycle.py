"""Sources and the intel document lifecycle: list, filters, paging, update rule, upsert, delete."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import TR, Api
from .test_tanium_intel_formats import OPENIOC, YARA


def _ioc(intrinsic: str, name: str = "doc", description: str = "") -> bytes:
    return (
        f'<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="{intrinsic}">'
        f"<short_description>{name}</short_description><description>{description}</description>"
        "<definition/></ioc>"
    ).encode()


def _signal(name: str, techniques: tuple[str, ...] = ()) -> bytes:
    body: dict[str, Any] = {"name": name, "contents": "process.path contains x"}
    if techniques:
        body["mitreAttack"] = {"techniques": [{"id": t, "name": t} for t in techniques]}
    return json.dumps(body).encode()


# ------------------------------------------------------------------------ sources
def test_source_has_the_spec_fields(tanium: Api) -> None:
    source = tanium.data(
        "POST", TR + "/sources", json={"type": "api-client", "name": "OpenCTI", "description": "d"}
    )
    assert set(source) == {"id", "name", "type", "description", "createdAt", "updatedAt"}


def test_duplicate_source_names_are_allowed_by_default(tanium: Api) -> None:
    assert tanium.source("OpenCTI") != tanium.source("OpenCTI")
    assert len(tanium.data("GET", TR + "/sources")) == 2


def test_duplicate_source_name_is_409_with_the_switch(make_tanium: Any) -> None:
    api: Api = make_tanium(duplicate_source_names="conflict")
    api.source("OpenCTI")
    assert api.post(TR + "/sources", json={"name": "OpenCTI"}).status_code == 409


def test_upload_to_an_unknown_source_is_404(tanium: Api) -> None:
    assert tanium.upload(42, OPENIOC, type="openioc").status_code == 404


# ------------------------------------------------------------------------ listing
def test_list_has_meta_counts_and_no_contents(tanium: Api) -> None:
    sid = tanium.source()
    for n in range(3):
        tanium.upload(sid, _ioc(f"i{n}"), type="openioc")
    body = tanium.get(TR + "/intels", params={"limit": 2}).json()
    assert body["meta"] == {"totalCount": 3, "filteredCount": 3}
    assert len(body["data"]) == 2 and "contents" not in body["data"][0]


def test_list_is_newest_first_by_default_and_switchable(make_tanium: Any) -> None:
    for order, expected in (("id_desc", [3, 2, 1]), ("id_asc", [1, 2, 3])):
        api: Api = make_tanium(intel_list_order=order)
        sid = api.source()
        for n in range(3):
            api.upload(sid, _ioc(f"i{n}"), type="openioc")
        assert [d["id"] for d in api.data("GET", TR + "/intels")] == expected


def test_default_page_is_100_and_offset_pages_through_everything(tanium: Api) -> None:
    sid = tanium.source()
    tanium.emulator.state.seed_intel(250, sid)
    first = tanium.data("GET", TR + "/intels")
    assert len(first) == 100
    seen = [
        d["id"]
        for off in range(0, 300, 100)
        for d in tanium.data("GET", TR + "/intels", params={"offset": off})
    ]
    assert sorted(seen) == list(range(1, 251))


@pytest.mark.parametrize(("mode", "status", "count"), [("clamp", 200, 500), ("reject", 400, 0)])
def test_limit_above_500_is_clamped_or_rejected(
    make_tanium: Any, mode: str, status: int, count: int
) -> None:
    api: Api = make_tanium(limit_over_max=mode)
    api.emulator.state.seed_intel(600, api.source())
    response = api.get(TR + "/intels", params={"limit": 1000})
    assert response.status_code == status
    if status == 200:
        assert len(response.json()["data"]) == count


def test_list_meta_switch_off_drops_meta(make_tanium: Any) -> None:
    assert "meta" not in make_tanium(list_meta=False).get(TR + "/intels").json()


def test_name_and_description_filters_are_case_insensitive_substrings(tanium: Api) -> None:
    sid = tanium.source()
    tanium.upload(sid, _ioc("a", "Emotet loader", "from OpenCTI"), type="openioc")
    tanium.upload(sid, _ioc("b", "Qakbot", "opencti marker"), type="openioc")
    tanium.upload(sid, _ioc("c", "Other", "manual"), type="openioc")
    names = [d["name"] for d in tanium.data("GET", TR + "/intels", params={"name": "EMOTET"})]
    assert names == ["Emotet loader"]
    found = tanium.data("GET", TR + "/intels", params={"description": "OPENCTI"})
    assert sorted(d["name"] for d in found) == ["Emotet loader", "Qakbot"]


def test_type_label_and_mitre_filters(tanium: Api) -> None:
    sid = tanium.source()
    ioc = tanium.upload(sid, _ioc("a"), type="openioc").json()["data"]
    sig = tanium.upload(sid, _signal("s", ("T1059",)), **{"content-type": "application/json"})
    label = tanium.data("POST", TR + "/labels", json={"name": "hunt"})
    tanium.put(f"{TR}/intels/{ioc['id']}/labels", json={"id": label["id"]})

    def ids(**params: Any) -> list[int]:
        return [d["id"] for d in tanium.data("GET", TR + "/intels", params=params)]

    assert ids(type="tanium-signal") == [sig.json()["data"]["id"]]
    assert ids(labelId=label["id"]) == [ioc["id"]]
    assert ids(mitreTechniqueId="T1059") == [sig.json()["data"]["id"]]


def test_source_id_filter_and_its_ignore_switch(make_tanium: Any) -> None:
    for switch, expected in ((True, 1), (False, 2)):
        api: Api = make_tanium(intel_source_filter=switch)
        a, b = api.source("a"), api.source("b")
        api.upload(a, _ioc("x"), type="openioc")
        api.upload(b, _ioc("y"), type="openioc")
        assert len(api.data("GET", TR + "/intels", params={"sourceId": a})) == expected


def test_filtered_count_reflects_filters(tanium: Api) -> None:
    sid = tanium.source()
    tanium.upload(sid, _ioc("a", "alpha"), type="openioc")
    tanium.upload(sid, _ioc("b", "beta"), type="openioc")
    meta = tanium.get(TR + "/intels", params={"name": "alp"}).json()["meta"]
    assert meta == {"totalCount": 2, "filteredCount": 1}


# ------------------------------------------------------------------------ update rule
def test_put_with_same_intrinsic_id_updates_and_increments_revision(tanium: Api) -> None:
    doc = tanium.upload(tanium.source(), _ioc("k", "v1"), type="openioc").json()["data"]
    updated = tanium.data(
        "PUT", f"{TR}/intels/{doc['id']}", content=_ioc("k", "v2"), headers={"type": "openioc"}
    )
    assert (updated["id"], updated["revisionId"], updated["name"]) == (doc["id"], 2, "v2")


def test_put_with_another_intrinsic_id_creates_a_new_doc_by_default(tanium: Api) -> None:
    doc = tanium.upload(tanium.source(), _ioc("k"), type="openioc").json()["data"]
    other = tanium.data(
        "PUT", f"{TR}/intels/{doc['id']}", content=_ioc("other"), headers={"type": "openioc"}
    )
    assert other["id"] != doc["id"] and other["revisionId"] == 1
    assert tanium.data("GET", f"{TR}/intels/{doc['id']}")["intrinsicId"] == "k"


def test_put_with_another_intrinsic_id_is_400_with_the_switch(make_tanium: Any) -> None:
    api: Api = make_tanium(put_intrinsic_mismatch="reject")
    doc = api.upload(api.source(), _ioc("k"), type="openioc").json()["data"]
    response = api.put(
        f"{TR}/intels/{doc['id']}", content=_ioc("other"), headers={"type": "openioc"}
    )
    assert response.status_code == 400 and "intrinsicId" in response.json()["text"]


def test_put_yara_without_filename_keeps_the_intrinsic_id(tanium: Api) -> None:
    headers = {"type": "yara", "content-disposition": "attachment; filename=r.yara"}
    doc = tanium.upload(tanium.source(), YARA, **headers).json()["data"]
    updated = tanium.data(
        "PUT",
        f"{TR}/intels/{doc['id']}",
        content=YARA + b"\n",
        headers={"type": "yara", "name": "r2"},
    )
    assert (updated["id"], updated["intrinsicId"], updated["revisionId"]) == (
        doc["id"],
        "r.yara",
        2,
    )


def test_put_json_updates_a_signal(tanium: Api) -> None:
    doc = tanium.upload(tanium.source(), _signal("s1"), **{"content-type": "application/json"})
    doc_id = doc.json()["data"]["id"]
    updated = tanium.data(
        "PUT",
        f"{TR}/intels/{doc_id}",
        content=_signal("s2"),
        headers={"content-type": "application/json"},
    )
    assert (updated["id"], updated["name"], updated["revisionId"]) == (doc_id, "s2", 2)


def test_put_to_unknown_doc_is_404(tanium: Api) -> None:
    assert (
        tanium.put(TR + "/intels/77", content=OPENIOC, headers={"type": "openioc"}).status_code
        == 404
    )


# ------------------------------------------------------------------------ upsert switch
def test_post_with_existing_intrinsic_id_updates_by_default(tanium: Api) -> None:
    sid = tanium.source()
    first = tanium.upload(sid, _ioc("same", "v1"), type="openioc").json()["data"]
    second = tanium.upload(sid, _ioc("same", "v2"), type="openioc").json()["data"]
    assert (second["id"], second["revisionId"]) == (first["id"], 2)
    assert len(tanium.data("GET", TR + "/intels")) == 1


def test_post_with_existing_intrinsic_id_duplicates_with_the_switch(make_tanium: Any) -> None:
    api: Api = make_tanium(post_existing_intrinsic_id="duplicate")
    sid = api.source()
    first = api.upload(sid, _ioc("same"), type="openioc").json()["data"]
    second = api.upload(sid, _ioc("same"), type="openioc").json()["data"]
    assert second["id"] != first["id"]


def test_upsert_is_per_source(tanium: Api) -> None:
    a = tanium.upload(tanium.source("a"), _ioc("same"), type="openioc").json()["data"]
    b = tanium.upload(tanium.source("b"), _ioc("same"), type="openioc").json()["data"]
    assert a["id"] != b["id"]


def test_revisions_are_kept_in_the_sandbox_state(tanium: Api) -> None:
    sid = tanium.source()
    doc = tanium.upload(sid, _ioc("k", "v1"), type="openioc").json()["data"]
    tanium.upload(sid, _ioc("k", "v2"), type="openioc")
    state = tanium.get("/__sandbox/state").json()
    [held] = [d for d in state["intels"] if d["id"] == doc["id"]]
    assert [r["name"] for r in held["revisions"]] == ["v1", "v2"]


# ------------------------------------------------------------------------ delete
def test_delete_by_repeated_query_id(tanium: Api) -> None:
    sid = tanium.source()
    ids = [tanium.upload(sid, _ioc(f"d{n}"), type="openioc").json()["data"]["id"] for n in range(3)]
    body = tanium.data("DELETE", TR + "/intels/", params=[("id", ids[0]), ("id", ids[1])])
    assert body == {"deleted": ids[:2]}
    assert [d["id"] for d in tanium.data("GET", TR + "/intels")] == [ids[2]]


def test_delete_by_path(tanium: Api) -> None:
    doc = tanium.upload(tanium.source(), OPENIOC, type="openioc").json()["data"]
    assert tanium.data("DELETE", f"{TR}/intels/{doc['id']}") == {"deleted": [doc["id"]]}
    assert tanium.get(f"{TR}/intels/{doc['id']}").status_code == 404


def test_delete_unknown_is_404_or_a_noop_by_switch(make_tanium: Any) -> None:
    assert make_tanium().delete(TR + "/intels/?id=5").status_code == 404
    noop: Api = make_tanium(delete_unknown="noop")
    assert noop.data("DELETE", TR + "/intels/?id=5") == {"deleted": []}


def test_delete_without_id_is_400(tanium: Api) -> None:
    assert tanium.delete(TR + "/intels/").status_code == 400


def test_deleted_intrinsic_id_can_be_posted_again_as_a_new_doc(tanium: Api) -> None:
    sid = tanium.source()
    doc = tanium.upload(sid, _ioc("k"), type="openioc").json()["data"]
    tanium.delete(f"{TR}/intels/{doc['id']}")
    again = tanium.upload(sid, _ioc("k"), type="openioc").json()["data"]
    assert again["id"] != doc["id"] and again["revisionId"] == 1
