"""Run the real command line against the Tanium emulator served over real HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from octi_sandbox.server import serve_in_thread
from octi_sandbox.tanium import TaniumConfig, create_app

from controller.cli import main

TOKEN = "token-e2e"
NO_REAL_BACKOFF = {"TANIUM_RETRY_BACKOFF": "0.001", "OPENCTI_RETRY_BACKOFF": "0.001"}
"""The clients' retry backoff, injected through their settings: retries stay real (same
attempts, same look-ups), only the waits between them shrink to milliseconds."""


@dataclass
class Result:
    code: int
    output: str


@dataclass
class Sandbox:
    url: str

    def state(self) -> dict[str, Any]:
        reply = httpx.get(f"{self.url}/__sandbox/state", timeout=30)
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    def post(self, path: str, body: Any) -> Any:
        reply = httpx.post(f"{self.url}{path}", json=body, timeout=30, headers={"session": TOKEN})
        reply.raise_for_status()
        return reply.json()

    def cli(self, args: Sequence[str], env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        full_env = {
            "TANIUM_URL": self.url,
            "TANIUM_TOKEN": TOKEN,
            "COLUMNS": "200",
            **NO_REAL_BACKOFF,
            **(env or {}),
        }
        result = runner.invoke(main, list(args), env=full_env, catch_exceptions=False)
        return Result(result.exit_code, result.output)

    def plan_json(self, policies: Path, source: str) -> dict[str, Any]:
        result = self.cli(
            ["plan", "--policies", str(policies), "--source", source, "--format", "json"]
        )
        assert result.code == 0, result.output
        return json_of(result.output)


def json_of(output: str) -> dict[str, Any]:
    """The JSON document of a command's output: from the first line opening with `{` (log
    lines on stderr may come first, and may hold braces themselves)."""
    start = 0 if output.startswith("{") else output.index("\n{") + 1
    data: dict[str, Any] = json.loads(output[start:])
    return data


@contextmanager
def tanium_sandbox(**config: Any) -> Iterator[Sandbox]:
    from octi_sandbox.tanium.config import ALL_PERMISSIONS

    config.setdefault("tokens", {TOKEN: set(ALL_PERMISSIONS)})
    app = create_app(TaniumConfig(**config))
    os.environ.pop("TANIUM_TOKEN_FILE", None)
    with serve_in_thread(app) as url:
        yield Sandbox(url)


def apply_then_plan_is_empty(box: Sandbox, policies: Path, source: str) -> None:
    """Apply everything, then a plan must show no changes (the convergence check)."""
    applied = box.cli(["apply", "--policies", str(policies), "--source", source, "--auto-approve"])
    assert applied.code == 0, applied.output
    again = box.cli(
        ["plan", "--policies", str(policies), "--source", source, "--detailed-exitcode"]
    )
    assert again.code == 0, again.output
