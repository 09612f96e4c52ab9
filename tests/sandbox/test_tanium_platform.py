"""Deploy, deploy status, computer groups, on-demand scans and quick-add."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from octi_sandbox.tanium import TaniumConfig, TaniumEmulator

from .conftest import TR, Api
from .test_tanium_intel_formats import OPENIOC


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _timed(make_tanium: Any, clock: FakeClock, **switches: Any) -> Api:
    """An emulator whose deployments last 60 s of the fake monotonic `clock`."""
    config = TaniumConfig(deploy_duration_seconds=60, **switches)
    api: Api = make_tanium(emulator=TaniumEmulator(config, monotonic=clock))
    return api


# ------------------------------------------------------------------------ deploy
def test_deploy_returns_a_task_id_and_counts(tanium: Api) -> None:
    first = tanium.data("POST", TR + "/intel/deploy")
    second = tanium.data("POST", TR + "/intel/deploy")
    assert set(first) == {"taskId"} and second["taskId"] == first["taskId"] + 1
    assert tanium.emulator.state.counters.deploys == 2


def test_deploy_while_one_runs_is_400(make_tanium: Any) -> None:
    clock = FakeClock()
    api = _timed(make_tanium, clock)
    assert api.post(TR + "/intel/deploy").status_code == 200
    clock.now += 30
    response = api.post(TR + "/intel/deploy")
    assert response.status_code == 400 and response.json()["text"] == "Bad Request"  # #3593
    clock.now += 31
    assert api.post(TR + "/intel/deploy").status_code == 200
    assert api.emulator.state.counters.deploys == 2


def test_deploy_while_one_runs_is_queued_with_the_switch(make_tanium: Any) -> None:
    clock = FakeClock()
    api = _timed(make_tanium, clock, deploy_while_running="queue")
    api.post(TR + "/intel/deploy")
    assert api.post(TR + "/intel/deploy").status_code == 200
    deployments = api.emulator.state.deployments
    assert deployments[1].started == deployments[0].finished


def test_status_reports_the_last_completed_deployment(make_tanium: Any) -> None:
    clock = FakeClock()
    api = _timed(make_tanium, clock)
    api.upload(api.source(), OPENIOC, type="openioc")
    empty = api.data("GET", TR + "/intel/status")
    assert empty == {"createdAt": None, "modifiedAt": None, "currentRevision": 0, "currentSize": 0}
    api.post(TR + "/intel/deploy")
    assert api.data("GET", TR + "/intel/status")["currentRevision"] == 0
    clock.now += 61
    status = api.data("GET", TR + "/intel/status")
    assert set(status) == {"createdAt", "modifiedAt", "currentRevision", "currentSize"}
    assert (status["currentRevision"], status["currentSize"]) == (1, 1)


def test_deploy_snapshots_doc_revisions(tanium: Api) -> None:
    sid = tanium.source()
    doc = tanium.upload(sid, OPENIOC, type="openioc").json()["data"]
    tanium.post(TR + "/intel/deploy")
    tanium.upload(sid, OPENIOC, type="openioc")
    state = tanium.get("/__sandbox/state").json()
    assert state["deployments"][0]["docRevisions"] == {str(doc["id"]): 1}
    assert state["undeployedChanges"] == 1
    assert [(d["revisionId"], d["deployedRevision"]) for d in state["intels"]] == [(2, 1)]


# ------------------------------------------------------------------------ groups
def test_all_computers_is_group_1(tanium: Api) -> None:
    assert tanium.data("GET", "/api/v2/groups/by-name/All Computers") == {
        "id": 1,
        "name": "All Computers",
    }


def test_unknown_group_is_404_or_null_by_switch(make_tanium: Any) -> None:
    assert make_tanium().get("/api/v2/groups/by-name/Nope").status_code == 404
    assert make_tanium(unknown_group="null").data("GET", "/api/v2/groups/by-name/Nope") is None


def test_demo_seed_has_more_groups(make_tanium: Any) -> None:
    api: Api = make_tanium(seed="demo")
    assert api.data("GET", "/api/v2/groups/by-name/Windows Servers")["id"] > 1


# ------------------------------------------------------------------------ scans
def test_on_demand_scan_answers_the_xsoar_fields_and_counts(tanium: Api) -> None:
    doc = tanium.upload(tanium.source(), OPENIOC, type="openioc").json()["data"]
    scan = tanium.data(
        "POST", TR + "/on-demand-scans", json={"computerGroupId": 1, "intelDocId": doc["id"]}
    )
    assert set(scan) == {
        "id",
        "alertCount",
        "computerGroupId",
        "createdAt",
        "intelDocId",
        "questionId",
        "revisionId",
        "userId",
    }
    counters = tanium.emulator.state.counters
    assert (counters.scans, counters.scans_by_doc[doc["id"]], counters.scans_by_group[1]) == (
        1,
        1,
        1,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"computerGroupId": 9, "intelDocId": 1},
        {"computerGroupId": 1, "intelDocId": 999},
        {"computerGroupId": "1", "intelDocId": 1},
        {"computerGroupId": 1},
    ],
)
def test_scan_with_unknown_or_non_integer_ids_is_400(tanium: Api, body: dict[str, Any]) -> None:
    tanium.upload(tanium.source(), OPENIOC, type="openioc")
    assert tanium.post(TR + "/on-demand-scans", json=body).status_code == 400
    assert tanium.emulator.state.counters.scans == 0


# ------------------------------------------------------------------------ quick-add
def _quick_add(api: Api, **body: Any) -> Any:
    response = api.post(TR + "/intels/quick-add", json={"exact": True, **body})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml"
    return etree.fromstring(response.content)


def test_quick_add_file_hashes_answers_openioc_and_stores_nothing(tanium: Api) -> None:
    md5, sha256 = "44d88612fea8a8f36de82e1278abb02f", "a" * 64
    ioc = _quick_add(tanium, name=sha256, type="File Hashes", text=f"{md5}\n{sha256}\n")
    ns = {"i": "http://schemas.mandiant.com/2010/ioc"}
    assert ioc.get("id") and ioc.findtext("i:short_description", namespaces=ns) == sha256
    assert ioc.findtext("i:description", namespaces=ns) == "Known malicious file names."
    searches = [c.get("search") for c in ioc.iterfind(".//i:Context", ns)]
    assert searches == ["FileItem/Md5sum", "FileItem/Sha256sum"]
    assert tanium.data("GET", TR + "/intels") == []


def test_quick_add_network_indicators_and_legacy_type(tanium: Api) -> None:
    ioc = _quick_add(tanium, name="n", type="ip_or_host", text="10.0.0.1, evil.example")
    ns = {"i": "http://schemas.mandiant.com/2010/ioc"}
    searches = [c.get("search") for c in ioc.iterfind(".//i:Context", ns)]
    assert searches == ["PortItem/remoteIP", "Network/DNS"]


def test_quick_add_output_uploads_as_openioc(tanium: Api) -> None:
    response = tanium.post(
        TR + "/intels/quick-add",
        json={"name": "x", "type": "Network Indicators", "text": "1.2.3.4"},
    )
    doc = tanium.upload(tanium.source(), response.content, type="openioc").json()["data"]
    assert doc["type"] == "openioc" and doc["name"] == "x"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "type": "Registry", "text": "a"},
        {"name": "x", "type": "File Hashes", "text": ""},
        {"name": "x", "type": "File Hashes", "text": "nothex"},
    ],
)
def test_quick_add_rejects_bad_type_empty_text_or_bad_hash(
    tanium: Api, body: dict[str, Any]
) -> None:
    assert tanium.post(TR + "/intels/quick-add", json=body).status_code == 400


def test_quick_add_legacy_types_can_be_refused(make_tanium: Any) -> None:
    api: Api = make_tanium(quick_add_legacy_types=False)
    body = {"name": "x", "type": "file_hash", "text": "0" * 32}
    assert api.post(TR + "/intels/quick-add", json=body).status_code == 400
