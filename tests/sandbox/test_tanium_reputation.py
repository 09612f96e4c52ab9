"""The Reputation custom hash list: upload, consolidation, replace, search, delete."""

from __future__ import annotations

from typing import Any

from .conftest import REP, Api

MD5 = "44d88612fea8a8f36de82e1278abb02f"
SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


def _entry(**fields: str) -> dict[str, str]:
    base = {
        "list": "blacklist",
        "md5": "",
        "sha1": "",
        "sha256": "",
        "uploadedHash": "",
        "notes": "",
    }
    return {**base, **fields}


def _upload(api: Api, entries: list[dict[str, Any]], append: str = "true") -> Any:
    return api.post(REP + "/upload", params={"append": append}, json=entries)


def _all(api: Api) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = api.data("GET", REP)
    return result


def test_upload_answers_the_count_and_stores_entries(tanium: Api) -> None:
    response = _upload(tanium, [_entry(sha256=SHA256, uploadedHash=SHA256, notes="eicar")])
    assert response.json() == {"data": {"count": 1}}
    [entry] = _all(tanium)
    assert set(entry) == {"id", "list", "md5", "sha1", "sha256", "notes", "createdAt"}
    assert (entry["sha256"], entry["md5"], entry["notes"]) == (SHA256, None, "eicar")


def test_empty_strings_mean_absent_and_entry_without_hash_is_400(tanium: Api) -> None:
    response = _upload(tanium, [_entry(notes="nothing")])
    assert response.status_code == 400 and "no md5, sha1 or sha256" in response.json()["text"]
    assert _all(tanium) == []


def test_upper_case_hash_keys_are_unknown_by_default(tanium: Api) -> None:
    entry = {
        "list": "blacklist",
        "MD5": MD5,
        "SHA-1": SHA1,
        "SHA-256": SHA256,
        "uploadedHash": SHA256,
    }
    assert _upload(tanium, [entry]).status_code == 400


def test_upper_case_hash_keys_are_accepted_with_the_switch(make_tanium: Any) -> None:
    api: Api = make_tanium(reputation_uppercase_keys="accept")
    entry = {"list": "blacklist", "MD5": MD5, "SHA-256": SHA256}
    assert _upload(api, [entry]).status_code == 200
    assert (_all(api)[0]["md5"], _all(api)[0]["sha256"]) == (MD5, SHA256)


def test_entries_sharing_a_hash_are_consolidated(tanium: Api) -> None:
    _upload(tanium, [_entry(md5=MD5, notes="first")])
    _upload(tanium, [_entry(md5=MD5, sha256=SHA256, notes="second")])
    [entry] = _all(tanium)
    assert (entry["md5"], entry["sha256"], entry["notes"]) == (MD5, SHA256, "second")


def test_an_upload_joining_two_entries_merges_them(tanium: Api) -> None:
    _upload(tanium, [_entry(md5=MD5), _entry(sha1=SHA1)])
    assert len(_all(tanium)) == 2
    _upload(tanium, [_entry(md5=MD5, sha1=SHA1, notes="joined")])
    [entry] = _all(tanium)
    assert (entry["md5"], entry["sha1"], entry["notes"]) == (MD5, SHA1, "joined")


def test_hashes_are_matched_case_insensitively(tanium: Api) -> None:
    _upload(tanium, [_entry(md5=MD5.upper())])
    _upload(tanium, [_entry(md5=MD5, notes="again")])
    assert [e["notes"] for e in _all(tanium)] == ["again"]


def test_append_false_replaces_the_whole_list(tanium: Api) -> None:
    _upload(tanium, [_entry(md5=MD5), _entry(sha1=SHA1)])
    _upload(tanium, [_entry(sha256=SHA256)], append="false")
    assert [e["sha256"] for e in _all(tanium)] == [SHA256]


def test_append_false_appends_with_the_switch(make_tanium: Any) -> None:
    api: Api = make_tanium(reputation_replace="append")
    _upload(api, [_entry(md5=MD5)])
    _upload(api, [_entry(sha256=SHA256)], append="false")
    assert len(_all(api)) == 2


def test_invalid_hash_or_list_is_400(tanium: Api) -> None:
    assert _upload(tanium, [_entry(md5="xyz")]).status_code == 400
    assert _upload(tanium, [_entry(md5=MD5, list="greylist")]).status_code == 400
    assert tanium.post(REP + "/upload", json={"md5": MD5}).status_code == 400


def test_search_by_any_hash(tanium: Api) -> None:
    _upload(tanium, [_entry(md5=MD5, sha256=SHA256), _entry(sha1=SHA1)])
    assert [e["md5"] for e in tanium.data("GET", REP, params={"search": SHA256})] == [MD5]
    assert tanium.data("GET", REP, params={"search": "0" * 64}) == []


def test_list_pages_with_meta_and_clamps_limit(tanium: Api) -> None:
    tanium.emulator.state.seed_reputation(620)
    body = tanium.get(REP).json()
    assert len(body["data"]) == 100 and body["meta"] == {"totalCount": 620, "filteredCount": 620}
    assert len(tanium.data("GET", REP, params={"limit": 9999})) == 500
    assert len(tanium.data("GET", REP, params={"limit": 500, "offset": 500})) == 120


def test_delete_by_id_is_200_then_404(tanium: Api) -> None:
    _upload(tanium, [_entry(md5=MD5)])
    entry_id = _all(tanium)[0]["id"]
    assert tanium.delete(f"{REP}/{entry_id}").status_code == 200
    assert tanium.delete(f"{REP}/{entry_id}").status_code == 404
    assert tanium.data("GET", REP, params={"search": MD5}) == []


def test_delete_by_hash_removes_every_matching_entry(tanium: Api) -> None:
    _upload(tanium, [_entry(md5=MD5, sha256=SHA256), _entry(sha1=SHA1)])
    assert tanium.data("POST", REP + "/delete", json=[SHA256]) == {"count": 1}
    assert [e["sha1"] for e in _all(tanium)] == [SHA1]
    assert tanium.post(REP + "/delete", json={"hash": SHA1}).status_code == 400


def test_reputation_writes_need_the_permission(make_tanium: Any) -> None:
    reader: Api = make_tanium(tokens={"t": {"intel:write"}}, token="t")
    assert _upload(reader, [_entry(md5=MD5)]).status_code == 403
    assert reader.get(REP).status_code == 200
