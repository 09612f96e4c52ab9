"""Replicas of `octi-tanium run` sharing a real Redis or PostgreSQL lease: exactly one writes,
a killed leader is replaced within the TTL with no duplicates, a paused one is fenced.

The writes are slowed down by the emulator (latency on creates) so that a signal lands in the
middle of an apply; TTL 2.5 s, interval 1 s. No timing assertion: a standby retries within
TTL/3, and the deadlines below only bound how long a broken build waits.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Sandbox, tanium_sandbox
from tests.run.harness import (
    Replica,
    domains,
    intel_names,
    policies,
    start_replica,
    wait_for,
    write_bundle,
)

TTL = 2.5
CREATE_LATENCY = {"kind": "latency", "latencyMs": 150, "route": "*/intels*", "method": "POST"}


@pytest.fixture(params=["redis", "postgres"])
def lock_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def tanium_writes(box: Sandbox) -> int:
    """Write requests that reached the emulator (its own routes and logins excluded)."""
    counts: dict[str, int] = box.state()["counters"]["requests"]
    return sum(
        n
        for route, n in counts.items()
        if route.split(" ")[0] in ("POST", "PUT", "PATCH", "DELETE")
        and "session" not in route
        and "__sandbox" not in route
    )


def no_duplicates(state: dict[str, Any]) -> bool:
    return all(n == 1 for n in Counter(intel_names(state)).values())


def converged(box: Sandbox, count: int) -> bool:
    state = box.state()
    return len(state["intels"]) == count and no_duplicates(state)


def test_one_leader_writes_a_killed_one_is_replaced_a_paused_one_is_fenced(
    tmp_path: Path, lock_url: str
) -> None:
    bundle = write_bundle(tmp_path / "bundle.json", domains(30))
    folder = policies(tmp_path / "policies")
    env = {"OCTI_TANIUM_LOCK_URL": lock_url, "OCTI_TANIUM_LOCK_TTL": str(TTL)}
    replicas: list[Replica] = []

    def replica(name: str) -> Replica:
        started = start_replica(
            name,
            tmp_path,
            tanium_url=box.url,
            policies_dir=folder,
            source=f"bundle:{bundle}",
            env=env,
        )
        replicas.append(started)
        return started

    with tanium_sandbox() as box:
        box.post("/__sandbox/faults", CREATE_LATENCY)
        try:
            # Two replicas: exactly one writes, the other stands by.
            first, second = replica("a"), replica("b")
            wait_for(
                lambda: len(box.state()["intels"]) >= 3, "a leader to start writing", 20, first
            )
            leading = [
                r for r in (first, second) if any(m.startswith("leader for") for m in r.messages())
            ]
            assert len(leading) == 1, f"{first}\n{second}"
            a, b = leading[0], second if leading[0] is first else first
            wait_for(lambda: b.passes("standby") >= 1, "the other to stand by", 20, b)
            assert not b.writes() and b.passes("ok") == 0, "a standby never writes"

            # SIGKILL the leader mid-apply: b takes over within the TTL, no duplicates.
            a.signal(signal.SIGKILL)
            killed = datetime.now(UTC)
            before = len(box.state()["intels"])
            assert 0 < before < 30, "a was killed mid-apply"
            wait_for(lambda: converged(box, 30), "convergence after a takeover", 30, b)
            took_over = [
                line for line in b.lines() if str(line["message"]).startswith("leader for")
            ]
            assert took_over, b
            assert datetime.fromisoformat(took_over[0]["time"]) > killed
            # b's pass logs its writes when its apply ends, a moment after Tanium converged
            wait_for(lambda: bool(b.writes()), "b to report the writes a left undone", 20, b)
            assert not a.writes(), "a was killed before it could log its pass"

            # SIGSTOP the new leader mid-apply past its TTL: c takes over; resumed, b writes
            # nothing more (fencing), and learns it was deposed.
            write_bundle(bundle, domains(30) + domains(30, prefix="e", start=101))
            wait_for(lambda: len(box.state()["intels"]) >= 33, "b to write the new ones", 20, b)
            c = replica("c")
            b.signal(signal.SIGSTOP)
            paused = len(box.state()["intels"])
            time.sleep(TTL + 0.5)
            wait_for(lambda: converged(box, 60), "c to converge while b is paused", 40, c)
            assert paused < 60, "b was paused mid-apply"
            wait_for(lambda: c.passes("ok") >= 2, "c to settle", 20, c)
            writes_before_resume = tanium_writes(box)
            b.signal(signal.SIGCONT)
            wait_for(
                lambda: b.passes("deposed") >= 1 or b.passes("standby") >= 1,
                "b to learn it lost the lease",
                20,
                b,
            )
            time.sleep(1.0)
            assert tanium_writes(box) == writes_before_resume, "a deposed leader wrote"
            assert converged(box, 60)
        finally:
            for started in replicas:
                started.process.send_signal(signal.SIGCONT)
                started.stop()
