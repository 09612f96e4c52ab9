"""`octi-tanium sandbox` serves both emulators and prints the lines to export."""

from __future__ import annotations

import httpx

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
