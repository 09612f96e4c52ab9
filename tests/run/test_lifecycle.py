"""Lifecycle of `run`: SIGTERM mid-apply, two targets on one host, a busy port, an unwritable
state directory, missing policies — each through the real command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.harness import TOKEN, tanium_sandbox
from tests.run.harness import (
    domains,
    policies,
    start_replica,
    wait_for,
    write_bundle,
)

SLOW_WRITES = {"kind": "latency", "latencyMs": 100, "route": "*/intels*", "method": "POST"}


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "controller", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def labelled(count: int) -> list[dict[str, Any]]:
    return [{**d, "labels": ["alpha", "beta"]} for d in domains(count)]


def test_sigterm_mid_apply_finishes_the_item_in_flight_releases_the_lease_exits_0(
    tmp_path: Path,
) -> None:
    bundle = write_bundle(tmp_path / "bundle.json", labelled(12))
    folder = policies(tmp_path / "policies")
    with tanium_sandbox() as box:
        box.post("/__sandbox/faults", SLOW_WRITES)
        run = start_replica(
            "r", tmp_path, tanium_url=box.url, policies_dir=folder, source=f"bundle:{bundle}"
        )
        try:
            wait_for(lambda: len(box.state()["intels"]) >= 3, "the apply to start", 20, run)
            run.signal(signal.SIGTERM)
            assert run.process.wait(timeout=20) == 0, run
        finally:
            run.stop()
        state = box.state()
        assert 0 < len(state["intels"]) < 12, "stopped mid-apply"
        for doc in state["intels"]:
            assert sorted(doc["labels"]) == ["alpha", "beta"], f"half-written: {doc['name']}"
        assert any(m.startswith("pass stopped") for m in run.messages()), run
        env = {"OCTI_TANIUM_STATE_DIR": str(tmp_path / "state")}
        status = cli("lock", "status", "--format", "json", env=env, cwd=tmp_path)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["leases"] == [], "the lease was released"
        # The next pass finishes the job, with no duplicate.
        again = cli(
            "run",
            "--once",
            "--policies",
            str(folder),
            "--source",
            f"bundle:{bundle}",
            env={**env, "TANIUM_URL": box.url, "TANIUM_TOKEN": TOKEN},
            cwd=tmp_path,
        )
        assert again.returncode == 0, again.stderr
        names = [doc["name"] for doc in box.state()["intels"]]
        assert sorted(names) == sorted(set(names)) and len(names) == 12


def test_two_reconcilers_for_two_tanium_servers_on_one_host_write_at_once(
    tmp_path: Path,
) -> None:
    bundle = write_bundle(tmp_path / "bundle.json", domains(15))
    folder = policies(tmp_path / "policies")
    with tanium_sandbox() as one, tanium_sandbox() as two:
        for box in (one, two):
            box.post("/__sandbox/faults", SLOW_WRITES)
        runs = [
            start_replica(
                name, tmp_path, tanium_url=box.url, policies_dir=folder, source=f"bundle:{bundle}"
            )
            for name, box in (("one", one), ("two", two))
        ]
        try:
            # Neither ever stands by: each holds its own target's lease while the other writes
            # (whether their writes overlap in time depends on the machine's load, so it is not
            # asserted; a shared lease would show as standby passes below).
            for box in (one, two):
                wait_for(lambda b=box: len(b.state()["intels"]) == 15, "convergence", 30, *runs)
            for run in runs:
                assert run.passes("standby") == 0, run
        finally:
            for run in runs:
                assert run.stop() == 0, run


def test_a_busy_port_fails_at_once_before_any_pass(tmp_path: Path) -> None:
    folder = policies(tmp_path / "policies")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli(
            "run",
            "--listen",
            f"127.0.0.1:{port}",
            "--policies",
            str(folder),
            "--source",
            "bundle:nowhere.json",
            env={"TANIUM_URL": "http://127.0.0.1:9", "TANIUM_TOKEN": "t"},
            cwd=tmp_path,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: already in use; pick another with "
        "--listen HOST:PORT"
    ]


def test_an_unwritable_state_directory_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    folder = policies(tmp_path / "policies")
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli(
        "run",
        "--once",
        "--policies",
        str(folder),
        "--source",
        "bundle:nowhere.json",
        env={
            "TANIUM_URL": "http://127.0.0.1:9",
            "TANIUM_TOKEN": "t",
            "OCTI_TANIUM_STATE_DIR": str(blocker / "state"),
        },
        cwd=tmp_path,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "OCTI_TANIUM_STATE_DIR" in lines[0], result.stderr


def test_run_refuses_to_start_without_policies(tmp_path: Path) -> None:
    empty = tmp_path / "policies"
    empty.mkdir()
    for where in (tmp_path / "missing", empty):
        result = cli(
            "run",
            "--once",
            "--source",
            "bundle:nowhere.json",
            env={"OCTI_TANIUM_POLICIES": str(where), "TANIUM_URL": "http://127.0.0.1:9"},
            cwd=tmp_path,
        )
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(where) in lines[0], result.stderr
        assert "OCTI_TANIUM_POLICIES" in lines[0]
