"""The demo's last act: `octi-tanium run` listening to OpenCTI's live stream, and a change
made in OpenCTI reaching Tanium within seconds — created, then revoked and removed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.rule import Rule

ROOT = Path(__file__).resolve().parents[2]
VALUE = "192.0.2.66"
console = Console(highlight=False)


def _in_tanium(env: dict[str, str]) -> bool:
    state = httpx.get(f"{env['TANIUM_URL']}/__sandbox/state", timeout=10).json()
    return any(doc["name"] == VALUE for doc in state["intels"])


def _wait(check: Callable[[], bool], limit: float = 30.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            raise SystemExit(f"error: the change did not reach Tanium within {limit:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def _opencti(env: dict[str, str], body: dict[str, object]) -> dict[str, str]:
    reply = httpx.post(f"{env['OPENCTI_URL']}/__sandbox/objects", json=body, timeout=10)
    reply.raise_for_status()
    return dict(reply.json())


def live(env: dict[str, str], title: str) -> None:
    console.print(Rule(f"[bold]{title}"))
    console.print(
        "[bold cyan]$ OPENCTI_STREAM_ID=octi-tanium octi-tanium run[/]  (in the background)"
    )
    run_env = {**env, "OPENCTI_STREAM_ID": "octi-tanium"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "run", "--listen", "127.0.0.1:0"],
        env=run_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(2.0)  # its first pass and the stream connection
        created = _opencti(
            env,
            {"op": "create-indicator", "pattern": f"[ipv4-addr:value = '{VALUE}']",
             "name": f"C2 {VALUE}", "detection": True, "score": 90},
        )  # fmt: skip
        console.print(f"  OpenCTI: an analyst creates indicator [bold]{VALUE}[/]")
        seconds = _wait(lambda: _in_tanium(env))
        console.print(f"  Tanium: its document is there [bold green]{seconds:.1f} s[/] later")
        _opencti(env, {"op": "revoke", "id": created["id"]})
        console.print(f"  OpenCTI: the analyst revokes [bold]{VALUE}[/]")
        seconds = _wait(lambda: not _in_tanium(env))
        console.print(f"  Tanium: the document is gone [bold green]{seconds:.1f} s[/] later\n")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    if os.environ.get("OCTI_TANIUM_DEMO_DEBUG"):
        console.print(f"[dim](run exited {proc.returncode})[/]")
