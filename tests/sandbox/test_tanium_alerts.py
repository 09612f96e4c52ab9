"""Alerts: the injection hook, filters, sort, paging, expand, and state changes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import TR, Api
from .test_tanium_intel_formats import OPENIOC

ALERT_FIELDS = {
    "id",
    "eid",
    "state",
    "type",
    "guid",
    "priority",
    "severity",
    "details",
    "intelDocId",
    "groupingId",
    "intelDocRevisionId",
    "scanConfigId",
    "scanConfigRevisionId",
    "computerName",
    "computerIpAddress",
    "matchType",
    "path",
    "receivedAt",
    "suppressedAt",
    "alertedAt",
    "findingId",
    "ackedAt",
    "firstEIDResolutionAttempt",
    "lastEIDResolutionAttempt",
    "createdAt",
    "updatedAt",
}


def _inject(api: Api, body: Any) -> list[dict[str, Any]]:
    response = api.post("/__sandbox/alerts", json=body)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def _doc(api: Api) -> int:
    return int(api.upload(api.source(), OPENIOC, type="openioc").json()["data"]["id"])


def _ids(api: Api, **params: Any) -> list[int]:
    return [a["id"] for a in api.data("GET", TR + "/alerts", params=params)]


def test_injected_alert_has_every_4x_field_and_details_as_json_string(tanium: Api) -> None:
    doc_id = _doc(tanium)
    [alert] = _inject(tanium, {"intelDocId": doc_id})
    assert set(alert) == ALERT_FIELDS
    details = json.loads(alert["details"])
    assert {"pid", "args", "user", "file", "parent"} <= set(details["match"]["properties"])
    assert set(details["match"]["properties"]["file"]) == {"md5", "sha1", "sha256", "fullpath"}
    assert details["finding"]["intel_id"].startswith(f"{doc_id}:1:")
    assert {"first_seen", "last_seen"} <= set(details["finding"])


def test_alerts_update_the_doc_alert_counts(tanium: Api) -> None:
    doc_id = _doc(tanium)
    _inject(tanium, [{"intelDocId": doc_id}, {"intelDocId": doc_id, "state": "resolved"}])
    doc = tanium.data("GET", f"{TR}/intels/{doc_id}")
    assert (doc["alertCount"], doc["unresolvedAlertCount"]) == (2, 1)


def test_injection_rejects_unknown_fields_and_states(tanium: Api) -> None:
    assert tanium.post("/__sandbox/alerts", json={"computername": "x"}).status_code == 400
    assert tanium.post("/__sandbox/alerts", json={"state": "closed"}).status_code == 400


def test_list_has_meta_and_requires_alerts_read(make_tanium: Any, tanium: Api) -> None:
    _inject(tanium, {"count": 3})
    body = tanium.get(TR + "/alerts", params={"state": "unresolved"}).json()
    assert body["meta"] == {"totalCount": 3, "filteredCount": 3}
    reader: Api = make_tanium(tokens={"t": {"intel:write"}}, token="t")
    assert reader.get(TR + "/alerts").status_code == 403


def test_repeated_state_is_or_and_different_filters_are_and(tanium: Api) -> None:
    a, b, _ = _inject(
        tanium,
        [
            {"state": "unresolved", "computerName": "web-01"},
            {"state": "inprogress", "computerName": "web-02"},
            {"state": "resolved", "computerName": "web-03"},
        ],
    )
    assert _ids(tanium, state=["unresolved", "inprogress"]) == [a["id"], b["id"]]
    assert _ids(tanium, state=["unresolved", "inprogress"], computerName="web-02") == [b["id"]]


def test_text_filters_match_as_contains(tanium: Api) -> None:
    doc_id = _doc(tanium)
    a, _ = _inject(
        tanium,
        [
            {"computerName": "WS-Finance-7", "computerIpAddress": "10.1.2.3", "intelDocId": doc_id},
            {"computerName": "srv", "computerIpAddress": "10.9.9.9"},
        ],
    )
    assert _ids(tanium, computerName="finance") == [a["id"]]
    assert _ids(tanium, computerIpAddress="10.1.2") == [a["id"]]
    assert _ids(tanium, intelDocId=doc_id) == [a["id"]]


def test_label_name_filter_uses_the_doc_labels(tanium: Api) -> None:
    doc_id = _doc(tanium)
    label = tanium.data("POST", TR + "/labels", json={"name": "Ransomware"})
    tanium.put(f"{TR}/intels/{doc_id}/labels", json={"id": label["id"]})
    a, _ = _inject(tanium, [{"intelDocId": doc_id}, {}])
    assert _ids(tanium, labelName="ransomware") == [a["id"]]


def test_alerted_at_from_is_inclusive_and_until_exclusive(tanium: Api) -> None:
    times = ["2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z"]
    a, b, c = _inject(tanium, [{"alertedAt": t} for t in times])
    window = _ids(tanium, alertedAtFrom="2025-01-02T00:00:00.000Z", alertedAtUntil=times[2])
    assert window == [b["id"]]
    assert _ids(tanium, alertedAtFrom="2025-01-01T00:00:00+00:00") == [a["id"], b["id"], c["id"]]


def test_invalid_alerted_at_from_is_400(tanium: Api) -> None:
    assert tanium.get(TR + "/alerts", params={"alertedAtFrom": "yesterday"}).status_code == 400


def test_sort_descending_ascending_and_multi_column(tanium: Api) -> None:
    a, b, c = _inject(
        tanium,
        [
            {
                "createdAt": "2025-01-02T00:00:00Z",
                "alertedAt": "2025-01-02T00:00:00Z",
                "priority": "low",
            },
            {
                "createdAt": "2025-01-03T00:00:00Z",
                "alertedAt": "2025-01-01T00:00:00Z",
                "priority": "high",
            },
            {
                "createdAt": "2025-01-01T00:00:00Z",
                "alertedAt": "2025-01-01T00:00:00Z",
                "priority": "low",
            },
        ],
    )
    assert _ids(tanium, sort="-createdAt") == [b["id"], a["id"], c["id"]]
    assert _ids(tanium, sort="+alertedAt") == [b["id"], c["id"], a["id"]]
    assert tanium.get(TR + "/alerts?sort=+alertedAt").status_code == 200  # "+" arrives as " "
    assert _ids(tanium, sort="priority,-createdAt") == [b["id"], a["id"], c["id"]]


def test_unknown_sort_column_is_400(tanium: Api) -> None:
    assert tanium.get(TR + "/alerts", params={"sort": "-bogus"}).status_code == 400


def test_default_limit_is_100_and_offset_pages(tanium: Api) -> None:
    _inject(tanium, {"count": 150, "alertedAt": "2025-01-01T00:00:00Z"})
    first = _ids(tanium, sort="+alertedAt")
    second = _ids(tanium, sort="+alertedAt", offset=100)
    assert (len(first), len(second)) == (100, 50)
    assert sorted(first + second) == list(range(1, 151))


@pytest.mark.parametrize(("mode", "status"), [("clamp", 200), ("reject", 400)])
def test_limit_above_500_is_clamped_or_rejected(make_tanium: Any, mode: str, status: int) -> None:
    api: Api = make_tanium(limit_over_max=mode)
    _inject(api, {"count": 501})
    response = api.get(TR + "/alerts", params={"limit": 501})
    assert response.status_code == status
    if status == 200:
        assert len(response.json()["data"]) == 500


def test_expand_intel_doc_embeds_the_doc(tanium: Api) -> None:
    doc_id = _doc(tanium)
    _inject(tanium, {"intelDocId": doc_id})
    [alert] = tanium.data("GET", TR + "/alerts", params={"expand": "intelDoc"})
    assert alert["intelDoc"]["id"] == doc_id and alert["intelDoc"]["name"] == "VIRUS TEST"
    assert "intelDoc" not in tanium.data("GET", TR + "/alerts")[0]


def test_get_one_alert_and_unknown_is_404(tanium: Api) -> None:
    [alert] = _inject(tanium, {})
    assert tanium.data("GET", f"{TR}/alerts/{alert['id']}") == alert
    assert tanium.get(TR + "/alerts/999").status_code == 404


def test_put_alert_changes_its_state(tanium: Api) -> None:
    [alert] = _inject(tanium, {})
    changed = tanium.data("PUT", f"{TR}/alerts/{alert['id']}", json={"state": "suppressed"})
    assert changed["state"] == "suppressed" and changed["suppressedAt"] is not None
    assert tanium.put(f"{TR}/alerts/{alert['id']}", json={"state": "gone"}).status_code == 400


def test_put_alerts_by_repeated_query_id(tanium: Api) -> None:
    a, _, c = _inject(tanium, {"count": 3})
    changed = tanium.data(
        "PUT",
        TR + "/alerts/",
        params=[("id", a["id"]), ("id", c["id"])],
        json={"state": "resolved"},
    )
    assert [x["id"] for x in changed] == [a["id"], c["id"]]
    assert _ids(tanium, state="resolved") == [a["id"], c["id"]]
