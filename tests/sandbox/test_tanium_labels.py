"""Labels: creation and uniqueness, listing, attach/detach on documents, counters."""

from __future__ import annotations

from typing import Any

from .conftest import TR, Api, corpus_json
from .test_tanium_intel_formats import OPENIOC


def _label(api: Api, name: str) -> dict[str, Any]:
    result: dict[str, Any] = api.data(
        "POST", TR + "/labels", json={"name": name, "description": "d"}
    )
    return result


def _doc_id(api: Api) -> int:
    return int(api.upload(api.source(), OPENIOC, type="openioc").json()["data"]["id"])


def test_label_has_the_fields_of_the_real_labels_list(tanium: Api) -> None:
    fixture = corpus_json("intel-docs/get_intel_docs_labels_list_raw_response.json")
    assert set(_label(tanium, "opencti")) == set(fixture[0])


def test_label_names_are_unique_case_insensitively_with_400(tanium: Api) -> None:
    _label(tanium, "Emotet")
    response = tanium.post(TR + "/labels", json={"name": "EMOTET"})
    assert response.status_code == 400 and "already exists" in response.json()["text"]


def test_duplicate_label_is_409_with_the_switch(make_tanium: Any) -> None:
    api: Api = make_tanium(duplicate_label="conflict")
    _label(api, "emotet")
    assert api.post(TR + "/labels", json={"name": "Emotet"}).status_code == 409


def test_label_without_name_is_400(tanium: Api) -> None:
    assert tanium.post(TR + "/labels", json={"description": "x"}).status_code == 400


def test_labels_list_defaults_to_100_and_no_limit_lists_all(tanium: Api) -> None:
    for n in range(120):
        tanium.emulator.state.add_label(f"l{n}")
    assert len(tanium.data("GET", TR + "/labels")) == 100
    assert len(tanium.data("GET", TR + "/labels", params={"noLimit": "True"})) == 120
    assert len(tanium.data("GET", TR + "/labels", params={"noLimit": "true"})) == 120
    assert len(tanium.data("GET", TR + "/labels", params={"offset": 100})) == 20


def test_labels_default_page_size_switch(make_tanium: Any) -> None:
    api: Api = make_tanium(label_page_default=500)
    for n in range(120):
        api.emulator.state.add_label(f"l{n}")
    assert len(api.data("GET", TR + "/labels")) == 120


def test_get_label_by_id_and_unknown_is_404(tanium: Api) -> None:
    label = _label(tanium, "x")
    assert tanium.data("GET", f"{TR}/labels/{label['id']}") == label
    assert tanium.get(TR + "/labels/99").status_code == 404


def test_attach_is_idempotent_and_returns_the_doc_labels(tanium: Api) -> None:
    doc_id, label = _doc_id(tanium), _label(tanium, "x")
    first = tanium.data("PUT", f"{TR}/intels/{doc_id}/labels", json={"id": label["id"]})
    second = tanium.data("PUT", f"{TR}/intels/{doc_id}/labels", json={"id": label["id"]})
    assert [lb["id"] for lb in first] == [lb["id"] for lb in second] == [label["id"]]
    assert tanium.data("GET", f"{TR}/intels/{doc_id}")["labelIds"] == [label["id"]]


def test_attach_updates_label_counters(tanium: Api) -> None:
    doc_id, label = _doc_id(tanium), _label(tanium, "x")
    tanium.put(f"{TR}/intels/{doc_id}/labels", json={"id": label["id"]})
    held = tanium.data("GET", f"{TR}/labels/{label['id']}")
    assert (held["indicatorCount"], held["signalCount"]) == (1, 0)


def test_attach_to_unknown_doc_is_404(tanium: Api) -> None:
    label = _label(tanium, "x")
    assert tanium.put(TR + "/intels/99/labels", json={"id": label["id"]}).status_code == 404


def test_attach_unknown_label_is_500_by_default_and_404_by_switch(make_tanium: Any) -> None:
    api: Api = make_tanium()
    doc_id = _doc_id(api)
    assert api.put(f"{TR}/intels/{doc_id}/labels", json={"id": 99}).status_code == 500
    api.emulator.configure(attach_unknown_label="not_found")
    assert api.put(f"{TR}/intels/{doc_id}/labels", json={"id": 99}).status_code == 404


def test_attach_with_non_integer_id_is_400(tanium: Api) -> None:
    assert tanium.put(f"{TR}/intels/{_doc_id(tanium)}/labels", json={"id": "x"}).status_code == 400


def test_detach_returns_the_remaining_labels(tanium: Api) -> None:
    doc_id, a, b = _doc_id(tanium), _label(tanium, "a"), _label(tanium, "b")
    for label in (a, b):
        tanium.put(f"{TR}/intels/{doc_id}/labels", json={"id": label["id"]})
    remaining = tanium.data("DELETE", f"{TR}/intels/{doc_id}/labels/{a['id']}")
    assert [lb["name"] for lb in remaining] == ["b"]
    assert tanium.data("GET", f"{TR}/intels/{doc_id}/labels") == remaining
    assert tanium.data("GET", f"{TR}/labels/{a['id']}")["indicatorCount"] == 0


def test_labels_survive_a_new_revision(tanium: Api) -> None:
    doc_id, label = _doc_id(tanium), _label(tanium, "keep")
    tanium.put(f"{TR}/intels/{doc_id}/labels", json={"id": label["id"]})
    updated = tanium.data(
        "PUT", f"{TR}/intels/{doc_id}", content=OPENIOC, headers={"type": "openioc"}
    )
    assert updated["labelIds"] == [label["id"]]


def test_deleting_a_doc_updates_label_counters(tanium: Api) -> None:
    doc_id, label = _doc_id(tanium), _label(tanium, "x")
    tanium.put(f"{TR}/intels/{doc_id}/labels", json={"id": label["id"]})
    tanium.delete(f"{TR}/intels/{doc_id}")
    assert tanium.data("GET", f"{TR}/labels/{label['id']}")["indicatorCount"] == 0
