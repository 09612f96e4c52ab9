"""The `/__sandbox/` test routes, the demo seed, bulk seeding, and listing at scale."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx
from octi_sandbox.tanium import DEFAULT_TOKEN, TaniumEmulator

from .conftest import REP, TR, Api
from .test_tanium_intel_formats import OPENIOC

Served = tuple[str, TaniumEmulator]


def test_state_holds_everything_with_counters(tanium: Api) -> None:
    sid = tanium.source()
    doc = tanium.upload(sid, OPENIOC, type="openioc").json()["data"]
    tanium.post(TR + "/intel/deploy")
    tanium.post(TR + "/on-demand-scans", json={"computerGroupId": 1, "intelDocId": doc["id"]})
    state = tanium.get("/__sandbox/state").json()
    assert {
        "sources",
        "intels",
        "labels",
        "groups",
        "deployments",
        "scans",
        "alerts",
        "reputation",
        "counters",
        "faults",
        "config",
    } <= set(state)
    assert state["intels"][0]["contents"] == OPENIOC.decode()
    counters = state["counters"]
    assert (counters["deploys"], counters["scans"]) == (1, 1)
    assert counters["requests"][f"POST {TR}/sources/{{id:int}}/intels"] == 1
    assert counters["requests"][f"POST {TR}/intel/deploy"] == 1


def test_counters_alone(tanium: Api) -> None:
    tanium.upload(tanium.source(), OPENIOC, type="openioc")
    counters = tanium.get("/__sandbox/counters").json()
    assert counters["requests"][f"POST {TR}/sources/{{id:int}}/intels"] == 1
    assert counters == tanium.get("/__sandbox/state").json()["counters"]


def test_state_can_omit_contents(tanium: Api) -> None:
    tanium.upload(tanium.source(), OPENIOC, type="openioc")
    assert "contents" not in tanium.get("/__sandbox/state?contents=false").json()["intels"][0]


def test_sandbox_routes_need_no_token_and_are_not_counted(make_tanium: Any) -> None:
    anonymous: Api = make_tanium(token=None)
    state = anonymous.get("/__sandbox/state").json()
    assert state["counters"]["requests"] == {}


def test_emulator_alias_serves_the_same_routes(tanium: Api) -> None:
    tanium.source("x")
    assert tanium.get("/__emulator/state").json()["sources"][0]["name"] == "x"


def test_reset_empties_the_state_and_restores_the_config(tanium: Api) -> None:
    tanium.source()
    tanium.post("/__sandbox/config", json={"jsonCharset": True})
    tanium.post("/__sandbox/reset")
    assert tanium.get(TR + "/sources").headers["content-type"] == "application/json"
    assert tanium.data("GET", TR + "/sources") == []


def test_reset_with_a_seed_loads_it(tanium: Api) -> None:
    assert tanium.post("/__sandbox/reset", json={"seed": "demo"}).json()["seed"] == "demo"
    assert {s["name"] for s in tanium.data("GET", TR + "/sources")} == {"Manual", "Tanium Signals"}
    assert tanium.post("/__sandbox/reset", json={"seed": "other"}).status_code == 400


def test_config_flips_switches_at_run_time(tanium: Api) -> None:
    changed = tanium.post(
        "/__sandbox/config", json={"duplicate_label": "conflict", "intelPageMax": 50}
    )
    assert (
        changed.json()["duplicate_label"] == "conflict" and changed.json()["intel_page_max"] == 50
    )
    tanium.data("POST", TR + "/labels", json={"name": "a"})
    assert tanium.post(TR + "/labels", json={"name": "A"}).status_code == 409
    assert tanium.get("/__sandbox/config").json()["intel_page_max"] == 50


def test_config_rejects_unknown_switches_and_bad_values(tanium: Api) -> None:
    assert tanium.post("/__sandbox/config", json={"nonsense": 1}).status_code == 400
    assert tanium.post("/__sandbox/config", json={"duplicate_label": "maybe"}).status_code == 400


def test_demo_seed_is_a_realistic_foreign_tanium(make_tanium: Any) -> None:
    demo: Api = make_tanium(seed="demo")
    docs = demo.data("GET", TR + "/intels")
    assert {d["type"] for d in docs} == {"openioc", "stix", "yara", "tanium-signal"}
    assert all(d["isSchemaValid"] for d in docs)
    assert len(demo.data("GET", TR + "/labels")) >= 3
    assert len(demo.data("GET", REP)) >= 3
    assert demo.get(TR + "/alerts").json()["meta"]["totalCount"] >= 3
    assert demo.emulator.state.undeployed_changes == 0


def test_bulk_seed_route_adds_intel_and_reputation(tanium: Api) -> None:
    result = tanium.post(
        "/__sandbox/seed",
        json={"intel": {"count": 5, "sourceName": "OpenCTI"}, "reputation": {"count": 4}},
    ).json()
    assert len(result["intel"]) == 5 and len(result["reputation"]) == 4
    assert (
        tanium.get(TR + "/intels", params={"sourceId": result["sourceId"]}).json()["meta"][
            "filteredCount"
        ]
        == 5
    )


def test_bulk_seed_route_stores_ready_documents_and_entries(tanium: Api) -> None:
    body = "<ioc id='x-1'>content</ioc>"
    result = tanium.post(
        "/__sandbox/seed",
        json={
            "intel": {
                "sourceName": "OpenCTI",
                "documents": [
                    {"name": "a", "contents": body, "description": "d [m]",
                     "intrinsicId": "x-1", "labels": ["Emotet", "tanium"]},
                    {"name": "b", "type": "yara", "contents": "rule b { condition: true }",
                     "labels": ["emotet"], "platforms": ["windows"]},
                ],
            },
            "reputation": {"entries": [
                {"sha256": "A" * 64, "notes": "n1"},
                {"md5": "b" * 32, "sha256": "a" * 64, "notes": "n2"},  # merges into the first
                {"md5": "c" * 32, "list": "whitelist"},
            ]},
        },
    ).json()  # fmt: skip
    first, second = result["intel"]
    docs = {d["id"]: d for d in tanium.data("GET", TR + "/intels")}
    assert docs[first]["md5"] == hashlib.md5(body.encode()).hexdigest()
    assert (docs[first]["description"], docs[first]["intrinsicId"]) == ("d [m]", "x-1")
    assert docs[second]["type"] == "yara"
    labels = {label["name"]: label["id"] for label in tanium.data("GET", TR + "/labels")}
    assert set(labels) == {"Emotet", "tanium"}  # "emotet" is the same label
    assert docs[first]["labelIds"] == [labels["Emotet"], labels["tanium"]]
    assert docs[second]["labelIds"] == [labels["Emotet"]]
    assert result["reputation"][0] == result["reputation"][1]
    entries = {e["id"]: e for e in tanium.data("GET", REP)}
    assert len(entries) == 2
    merged = entries[result["reputation"][0]]
    assert (merged["md5"], merged["sha256"], merged["notes"]) == ("b" * 32, "a" * 64, "n2")
    assert entries[result["reputation"][2]]["list"] == "whitelist"


def test_bulk_seed_route_refuses_malformed_documents(tanium: Api) -> None:
    bad = {"intel": {"documents": [{"name": "a", "labels": "emotet"}]}}
    response = tanium.post("/__sandbox/seed", json=bad)
    assert response.status_code == 400
    assert "intel.documents[0]: 'labels' must be a list" in response.text
    response = tanium.post("/__sandbox/seed", json={"reputation": {"entries": [{"notes": "x"}]}})
    assert response.status_code == 400 and "no md5, sha1 or sha256" in response.text


def test_20000_docs_and_entries_list_quickly_over_http_with_30_percent_failures(
    tanium_server: Served,
) -> None:
    url, emulator = tanium_server
    source = emulator.state.add_source("OpenCTI").id
    emulator.state.seed_intel(20_000, source)
    emulator.state.seed_reputation(20_000)
    emulator.configure(fault_seed=7)
    emulator.add_fault({"kind": "error", "status": 503, "probability": 0.3})
    started = time.monotonic()
    with httpx.Client(base_url=url, headers={"session": DEFAULT_TOKEN}) as client:
        for path in (TR + "/intels", REP):
            seen: set[int] = set()
            while len(seen) < 20_000:
                response = client.get(path, params={"limit": 500, "offset": len(seen)})
                if response.status_code == 200:
                    seen.update(item["id"] for item in response.json()["data"])
            assert len(seen) == 20_000
    assert time.monotonic() - started < 10
    assert emulator.faults.injected > 10
