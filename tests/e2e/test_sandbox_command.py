"""`octi-tanium sandbox` serves both emulators and prints the lines to export.

The emulators run in a child process (`python -m octi_sandbox`); without them installed, the
command says what to install.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from controller.cli import main
from controller.cli.demo import start_sandbox

TR_SOURCES = "/plugin/products/threat-response/api/v1/sources"


def test_sandbox_command_serves_tanium_and_opencti_with_the_printed_tokens() -> None:
    proc, env = start_sandbox(seed="empty")
    try:
        assert set(env) == {"TANIUM_URL", "TANIUM_TOKEN", "OPENCTI_URL", "OPENCTI_TOKEN"}
        ok = httpx.get(env["TANIUM_URL"] + TR_SOURCES, headers={"session": env["TANIUM_TOKEN"]})
        assert ok.status_code == 200 and ok.json() == {"data": []}
        assert httpx.get(env["TANIUM_URL"] + TR_SOURCES).status_code == 401
        about = httpx.post(
            env["OPENCTI_URL"] + "/graphql",
            json={"query": "{ about { version } }"},
            headers={"Authorization": f"Bearer {env['OPENCTI_TOKEN']}"},
        )
        assert about.status_code == 200 and about.json()["data"]["about"]["version"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_without_the_emulators_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "octi_sandbox" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = CliRunner().invoke(main, ["sandbox"])
    assert result.exit_code == 1
    assert "pip install 'octi-tanium[sandbox]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_it_prints_the_lines_to_export_and_stops_with_its_child() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "sandbox", "--seed", "empty",
         "--tanium-port", "0", "--opencti-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        env = dict(line.split("=", 1) for line in lines)
        assert list(env) == ["TANIUM_URL", "TANIUM_TOKEN", "OPENCTI_URL", "OPENCTI_TOKEN"]
        for url in (env["TANIUM_URL"], env["OPENCTI_URL"]):
            assert httpx.get(f"{url}/__sandbox/state", timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) in (0, 128 + signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the child closed its sockets too
            try:
                httpx.get(f"{env['TANIUM_URL']}/__sandbox/state", timeout=1)
            except httpx.TransportError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the emulators kept running after `octi-tanium sandbox` stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=20)
