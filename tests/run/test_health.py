"""Honest health: an OpenCTI outage fails the passes, keeps `last_success` where it was, turns
`/readyz` unready after `--unready-after` failed passes, and ready again after a good pass."""

from __future__ import annotations

import re
from pathlib import Path

from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti.server import create_app
from octi_sandbox.server import serve_in_thread

from tests.e2e.harness import TOKEN, tanium_sandbox
from tests.run.harness import (
    domains,
    free_port,
    policies,
    start_replica,
    wait_for,
    write_bundle,
)

OPENCTI_TOKEN = "opencti-run-token"


def last_success(metrics: str) -> float:
    found = re.search(r"^octi_tanium_last_success_timestamp (\S+)$", metrics, re.M)
    assert found, metrics
    return float(found.group(1))


def test_an_opencti_outage_is_a_failed_pass_and_turns_readiness_off(tmp_path: Path) -> None:
    opencti = create_app(OpenCTIConfig(tokens=(OPENCTI_TOKEN,)))
    opencti.state.opencti.seed_file(write_bundle(tmp_path / "seed.json", domains(3)))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tanium_sandbox() as box:
        env = {"OPENCTI_URL": url, "OPENCTI_TOKEN": OPENCTI_TOKEN}
        folder = policies(tmp_path / "policies")
        with serve_in_thread(opencti, port=port):
            run = start_replica(
                "r",
                tmp_path,
                tanium_url=box.url,
                policies_dir=folder,
                source="opencti",
                env=env,
                args=("--unready-after", "2"),
            )
            try:
                wait_for(lambda: run.passes("ok") >= 1, "a good pass", 90, run)
                wait_for(lambda: run.readyz() == 200, "ready", 30, run)
                metrics = run.metrics()
                good = last_success(metrics)
                assert good > 0
                assert "octi_tanium_leader 1.0" in metrics
                assert "octi_tanium_build_info{version=" in metrics
                assert "octi_tanium_source_complete 1.0" in metrics
                assert 'octi_tanium_objects{set="desired"} 3.0' in metrics
                assert (
                    'octi_tanium_requests_total{endpoint="POST /graphql",status="200",'
                    'system="opencti"}' in metrics
                )
                assert 'system="tanium"' in metrics
                assert len(box.state()["intels"]) == 3
            except BaseException:
                run.stop()
                raise
        try:
            # OpenCTI is gone: failed passes, logged as errors with the cause.
            wait_for(lambda: run.passes("failed") >= 2, "two failed passes", 90, run)
            wait_for(lambda: run.readyz() == 503, "unready after 2 failed passes", 30, run)
            failed = [
                line for line in run.lines() if str(line["message"]).startswith("pass failed")
            ]
            assert all(line["level"] == "ERROR" for line in failed), failed
            assert "pass" in failed[0], "every line of a pass carries its id"
            assert f"OpenCTI at {url} answered incompletely" in str(failed[0]["message"])
            assert "connection refused" in str(failed[0]["message"]), "the cause is named"
            metrics = run.metrics()
            assert last_success(metrics) == good, "a failed pass is not a success"
            assert 'octi_tanium_passes_total{outcome="failed"}' in metrics
            assert "octi_tanium_source_complete 0.0" in metrics
            failing = re.search(r"^octi_tanium_consecutive_failed_passes (\S+)$", metrics, re.M)
            assert failing and float(failing.group(1)) >= 2, metrics
            assert len(box.state()["intels"]) == 3, "nothing deleted while OpenCTI is away"

            # OpenCTI is back: the next pass succeeds, readiness returns.
            with serve_in_thread(opencti, port=port):
                wait_for(lambda: run.readyz() == 200, "ready after OpenCTI returns", 90, run)
                assert last_success(run.metrics()) > good
            log = run.log.read_text()
            assert OPENCTI_TOKEN not in log and TOKEN not in log, "never a secret"
        finally:
            assert run.stop() == 0, run
