"""The emulator's test routes under /__sandbox/, over real HTTP."""

from __future__ import annotations

import json

import httpx
from octi_sandbox.opencti import DEFAULT_TOKEN, DEMO_SEED, OpenCTIConfig
from octi_sandbox.opencti.server import serve_opencti

from .conftest import Served, policy_set


def test_state_reset_seed_faults_objects_clock(served: Served) -> None:
    with httpx.Client(base_url=served.url) as client:
        seeded = client.post("/__sandbox/seed", content=DEMO_SEED.read_bytes()).json()
        assert seeded["indicators"] == 62 and seeded["observables"] == 20
        state = client.get("/__sandbox/state").json()
        assert state["counts"]["indicators"] == 62
        assert state["requests"]["total"] == 0

        created = client.post(
            "/__sandbox/objects",
            json={
                "op": "create-indicator",
                "pattern": "[ipv4-addr:value = '192.0.2.200']",
                "labels": ["tanium"],
                "valid_until": "2026-12-01T00:00:00Z",
            },
        ).json()
        assert created["standard_id"].startswith("indicator--")
        updated = client.post(
            "/__sandbox/objects",
            json={"op": "update", "id": created["id"], "set": {"x_opencti_score": 99}},
        )
        assert updated.status_code == 200
        assert (
            client.post("/__sandbox/objects", json={"op": "revoke", "id": "nope"}).status_code
            == 404
        )
        assert client.post(
            "/__sandbox/objects", json={"op": "delete", "id": created["id"]}
        ).json() == {"deleted": True}

        rules = client.post("/__sandbox/faults", json={"kind": "status", "status": 503, "times": 1})
        assert rules.json()["rules"][0]["remaining"] == 1
        graphql = client.post(
            "/graphql",
            json={"query": "{ about { version } }"},
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        )
        assert graphql.status_code == 503
        assert client.get("/__sandbox/faults").json() == {"rules": []}
        state = client.get("/__sandbox/state", params={"objects": "true"}).json()
        assert state["requests"]["total"] == 1 and state["faults_injected"] == {"status": 1}
        assert len(state["objects"]) == 82

        moved = client.post("/__sandbox/clock", json={"advance": "1000d"}).json()
        assert moved["revoked"] > 0
        assert client.post("/__sandbox/reset", json={}).json()["counts"]["indicators"] == 0
        assert (
            client.post("/__sandbox/reset", json={"seed": "demo"}).json()["counts"]["indicators"]
            == 62
        )
        assert client.post("/__sandbox/reset", json={"seed": "nope"}).status_code == 400
        assert client.post("/__sandbox/faults", json={"kind": "nope"}).status_code == 400
        assert client.get("/health").json() == {"status": "ok"}


def test_a_demo_seeded_emulator_serves_the_demo(everything: object) -> None:
    config = OpenCTIConfig(tokens=("t0ken",), seed="demo")
    with serve_opencti(config) as (url, state):
        assert state.store.counts()["indicators"] == 62
        served = Served(url, state)
        from .conftest import settings_for

        snapshot = served.fetch(policy_set({}), settings=settings_for(url, token="t0ken"))
        assert snapshot.complete and len(snapshot.objects) == 82
        assert json.loads(DEMO_SEED.read_bytes())["type"] == "bundle"
