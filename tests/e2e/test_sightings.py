"""Tanium alerts → OpenCTI sightings, over real HTTP against both emulators.

Counts are checked in OpenCTI itself: the sum of `attribute_count` over the sightings of each
origin object equals the number of non-suppressed alerts on the documents it produced —
after one pass, after a replay, and after a pass killed with SIGKILL half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti.server import serve_opencti

from tests.e2e.harness import NO_REAL_BACKOFF, TOKEN, Sandbox, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING, indicator, managed_docs

OPENCTI_TOKEN = "opencti-e2e-token"
NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=3)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class World:
    def __init__(self, box: Sandbox, url: str, state: Any, tmp: Path) -> None:
        self.box, self.url, self.state = box, url, state
        self.env = {
            "OPENCTI_URL": url,
            "OPENCTI_TOKEN": OPENCTI_TOKEN,
            "OCTI_TANIUM_SIGHTINGS_SETTLE": "0",
        }
        # indicators 1 and 2 are the same domain: one document, two origins
        objects = [
            indicator(1, "evil1.example"),
            indicator(2, "evil1.example"),
            indicator(3, "evil3.example"),
        ]
        bundle = tmp / "b.json"
        bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
        state.seed_file(bundle)
        applied = self.cli("apply", "--auto-approve")
        assert applied.code == 0, applied.output
        docs = managed_docs(box.state())
        self.doc = {d["name"]: d["id"] for d in docs}
        self.expected: Counter[str] = Counter()
        self.origins = {
            self.doc["evil1.example"]: [objects[0]["id"], objects[1]["id"]],
            self.doc["evil3.example"]: [objects[2]["id"]],
        }

    def cli(self, command: str, *args: str) -> Any:
        return self.box.cli(
            [command, "--policies", str(EVERYTHING), "--source", "opencti", *args], env=self.env
        )

    def alerts(self, name: str, when: datetime | None, host: str, count: int, **extra: Any) -> None:
        """`count` alerts of `host` on the document `name` at `when` (None: now)."""
        doc = self.doc[name]
        spec = {"intelDocId": doc, "computerName": host, "count": count, **extra}
        if when is not None:
            spec["alertedAt"] = stamp(when)
        self.box.post("/__sandbox/alerts", spec)
        if extra.get("state") != "suppressed":
            for origin in self.origins[doc]:
                self.expected[origin] += count

    def counts(self) -> Counter[str]:
        """Σ attribute_count per sighted object, as OpenCTI holds it."""
        out: Counter[str] = Counter()
        for sighting in self.state.store.sightings.values():
            out[sighting["from"]["standard_id"]] += sighting["attribute_count"]
        return out

    def sightings_json(self, *args: str) -> dict[str, Any]:
        result = self.cli("sightings", "--format", "json", *args)
        assert result.code == 0, result.output
        data: dict[str, Any] = json.loads(result.output[result.output.index("{") :])
        return data


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with (
        tanium_sandbox() as box,
        serve_opencti(OpenCTIConfig(tokens=(OPENCTI_TOKEN,))) as (
            url,
            state,
        ),
    ):
        yield World(box, url, state, tmp_path)


def seed_1200(world: World) -> None:
    """1,200 alerts on owned documents — 700 sharing one alertedAt — and a full page (500) of
    suppressed ones sorted before them, over three hosts and two days."""
    world.alerts("evil1.example", T0 - timedelta(minutes=1), "host-a", 500, state="suppressed")
    world.alerts("evil1.example", T0, "host-a", 700)
    world.alerts("evil1.example", T0 - timedelta(days=1), "host-b", 200)
    world.alerts("evil3.example", T0 - timedelta(days=1, hours=2), "host-b", 150)
    world.alerts("evil3.example", T0 + timedelta(minutes=5), "host-c", 150)


def test_1200_alerts_are_each_counted_once_and_a_second_run_writes_nothing(world: World) -> None:
    seed_1200(world)
    first = world.sightings_json()
    assert first["counted"] == 1200 and first["suppressed"] == 500
    assert world.counts() == world.expected
    hosts = {s["to"]["name"] for s in world.state.store.sightings.values()}
    assert hosts == {"host-a", "host-b", "host-c"}
    assert all(s["to"]["entity_type"] == "System" for s in world.state.store.sightings.values())
    before = {k: dict(v) for k, v in world.state.store.sightings.items()}

    second = world.sightings_json()
    assert second["written"] == 0 and second["counted"] == 0
    assert {k: dict(v) for k, v in world.state.store.sightings.items()} == before

    # new alerts (now, on a known host and on a new one) are added exactly
    world.alerts("evil1.example", None, "host-a", 40)
    world.alerts("evil3.example", None, "host-d", 3)
    world.sightings_json()
    assert world.counts() == world.expected


def test_a_lost_cursor_rereads_a_window_and_counts_nothing_twice(world: World) -> None:
    seed_1200(world)
    world.sightings_json()
    for path in Path(os.environ["OCTI_TANIUM_STATE_DIR"], "sightings").iterdir():
        path.unlink()
    world.alerts("evil1.example", None, "host-a", 7)
    again = world.sightings_json("--since", stamp(T0 - timedelta(days=3)))
    assert again["recovery"] is True and again["already_counted"] == 1200
    assert world.counts() == world.expected


def test_dry_run_writes_nothing_and_keeps_the_cursor(world: World) -> None:
    seed_1200(world)
    shown = world.sightings_json("--dry-run")
    assert shown["dry_run"] is True and len(shown["sightings"]) > 0
    text = world.cli("sightings", "--dry-run")
    assert text.code == 0, text.output
    assert "1200 counted, 500 suppressed (skipped)" in text.output
    assert f"would write {len(shown['sightings'])} sighting(s) on 3 host(s)" in text.output
    assert not world.state.store.sightings
    world.sightings_json()
    assert world.counts() == world.expected


def test_a_pass_killed_half_way_resumes_without_loss_or_double_counting(world: World) -> None:
    seed_1200(world)
    for n in range(40):  # many (object, host) groups: a long batch to kill in the middle
        world.alerts("evil3.example", T0 - timedelta(days=2, minutes=n), f"ws-{n:02d}", 2)
    slow = {"kind": "latency", "operation": "OctiTaniumSightingAdd", "latency_ms": 400}
    httpx.post(f"{world.url}/__sandbox/faults", json=slow).raise_for_status()
    env = {
        **os.environ,
        **NO_REAL_BACKOFF,
        **world.env,
        "TANIUM_URL": world.box.url,
        "TANIUM_TOKEN": TOKEN,
    }
    args = ["--policies", str(EVERYTHING), "--source", "opencti"]
    child = subprocess.Popen(
        [sys.executable, "-m", "controller", "sightings", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(world.state.store.sightings) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.poll() is None, "the pass ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert world.counts() != world.expected  # killed half-way indeed
    httpx.delete(f"{world.url}/__sandbox/faults").raise_for_status()
    resumed = world.sightings_json()
    assert resumed["replayed"] > 0
    assert world.counts() == world.expected
    assert world.sightings_json()["written"] == 0
    assert world.counts() == world.expected


def test_every_run_pass_reports_the_alerts_and_an_opencti_failure_leaves_tanium_alone(
    world: World,
) -> None:
    seed_1200(world)
    broken = {"kind": "status", "status": 502, "operation": "OctiTaniumSightingAdd", "times": 1000}
    httpx.post(f"{world.url}/__sandbox/faults", json=broken).raise_for_status()
    # a Tanium change for the same pass
    world.state.create_indicator(
        pattern="[domain-name:value = 'new4.example']", name="new4", detection=True
    )
    failed = world.cli("run", "--once")
    assert failed.code == 0, failed.output  # the Tanium side of the pass stands
    assert len(managed_docs(world.box.state())) == 3
    assert world.counts() != world.expected
    httpx.delete(f"{world.url}/__sandbox/faults").raise_for_status()
    assert world.cli("run", "--once").code == 0
    assert world.counts() == world.expected
