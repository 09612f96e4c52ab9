"""Replicas of `octi-tanium run` as child processes (`python -m controller run`) against the
Tanium emulator served over real HTTP, a STIX bundle as the source, and a real lock store.

Each replica logs JSON lines to its own file; what it wrote is read from those lines (one
line per applied item, `create intel NAME [new]: ok`), its health from its own `/readyz`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import NO_REAL_BACKOFF, TOKEN

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = ROOT / "desired" / "everything.yaml"
WRITES = ("create ", "update ", "delete ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def domains(count: int, prefix: str = "d", start: int = 1) -> list[dict[str, Any]]:
    """`count` domain indicators numbered from `start`, each its own intel document."""
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{n:08d}-0000-4000-8000-000000000000",
            "created": "2026-01-01T00:00:00Z",
            "modified": "2026-01-01T00:00:00Z",
            "name": f"{prefix}{n}.example",
            "pattern": f"[domain-name:value = '{prefix}{n}.example']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
        }
        for n in range(start, start + count)
    ]


def write_bundle(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    return path


def policies(folder: Path, *, interval: str = "1s", concurrency: int = 1, extra: str = "") -> Path:
    """Select everything; a short interval; `concurrency` parallel writes."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "all.yaml").write_text(EVERYTHING.read_text())
    (folder / "settings.yaml").write_text(
        "apiVersion: octi-tanium/v1\nkind: Settings\nmetadata: {name: s}\n"
        f"spec:\n  concurrency: {concurrency}\n  deploy: {{retryAfter: 0s}}\n"
        f"  schedule: {{interval: {interval}}}\n{extra}"
    )
    return folder


@dataclass
class Replica:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int
    started: float = field(default_factory=time.monotonic)

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.log.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"message": raw, "level": "RAW"})
        return out

    def messages(self) -> list[str]:
        return [str(line.get("message", "")) for line in self.lines()]

    def writes(self) -> list[str]:
        """The items this replica applied (its log has one line per item)."""
        return [m for m in self.messages() if m.startswith(WRITES) and m.endswith(": ok")]

    def passes(self, outcome: str) -> int:
        return sum(1 for m in self.messages() if m.startswith(f"pass {outcome} "))

    def readyz(self) -> int:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code
        except httpx.HTTPError:
            return 0

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(timeout=20)

    def __str__(self) -> str:
        tail = "\n".join(self.messages()[-30:])
        return f"replica {self.name} (exit {self.process.poll()}):\n{tail}"


def start_replica(
    name: str,
    folder: Path,
    *,
    tanium_url: str,
    policies_dir: Path,
    source: str,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> Replica:
    """`python -m controller run` in a child process; its log in `folder/<name>.log`."""
    port = free_port()
    log = folder / f"{name}.log"
    state = folder / "state"  # one host: the replicas share it
    full_env = {
        **os.environ,
        "TANIUM_URL": tanium_url,
        "TANIUM_TOKEN": TOKEN,
        "OCTI_TANIUM_STATE_DIR": str(state),
        "HOME": str(folder),
        **NO_REAL_BACKOFF,
        **(env or {}),
    }
    argv = [
        sys.executable,
        "-m",
        "controller",
        "run",
        "--listen",
        f"127.0.0.1:{port}",
        "--policies",
        str(policies_dir),
        "--source",
        source,
        "--log-format",
        "json",
        *args,
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            argv, env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=folder
        )
    return Replica(name, process, log, port)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20, *why: object) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            details = "\n\n".join(str(w) for w in why)
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{details}")
        time.sleep(0.05)


def intel_names(state: dict[str, Any]) -> list[str]:
    return [str(doc["name"]) for doc in state["intels"]]
