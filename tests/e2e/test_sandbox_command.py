"""`octi-tanium sandbox` serves both emulators and prints the lines to export."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

TR_SOURCES = "/plugin/products/threat-response/api/v1/sources"


def test_sandbox_command_serves_tanium_and_opencti_with_the_printed_tokens() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "controller",
            "sandbox",
            "--seed",
            "empty",
            "--tanium-port",
            "0",
            "--opencti-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        env: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while len(env) < 4 and time.monotonic() < deadline:
            key, _, value = proc.stdout.readline().strip().partition("=")
            if value:
                env[key] = value
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
