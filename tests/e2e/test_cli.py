"""The command line contract: saved plans, stale plans, show, run --once, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import CORPUS
from tests.e2e.harness import TOKEN, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING

BUNDLE = CORPUS / "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json"
SOURCE = f"bundle:{BUNDLE}"
TR = "/plugin/products/threat-response/api/v1"


def test_saved_plan_is_shown_and_applied(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    with tanium_sandbox() as box:
        made = box.cli(
            [
                "plan",
                "--policies",
                str(EVERYTHING),
                "--source",
                SOURCE,
                "--out",
                str(out),
                "--detailed-exitcode",
            ]
        )
        assert made.code == 2, made.output
        data = json.loads(out.read_text())
        assert data["format_version"] == "1.1" and data["summary"]["create"] > 0
        shown = box.cli(["show", str(out), "--format", "markdown"])
        assert shown.code == 0 and "### octi-tanium plan" in shown.output
        applied = box.cli(["apply", str(out)])
        assert applied.code == 0, applied.output
        assert "Apply complete" in applied.output
        again = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", SOURCE, "--detailed-exitcode"]
        )
        assert again.code == 0, again.output


def test_a_stale_plan_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    with tanium_sandbox() as box:
        box.cli(["apply", "--policies", str(EVERYTHING), "--source", SOURCE, "--auto-approve"])
        box.cli(["plan", "--policies", str(EVERYTHING), "--source", SOURCE, "--out", str(out)])
        state = box.state()
        doc = state["intels"][0]
        httpx.delete(
            f"{box.url}{TR}/intels/", params={"id": doc["id"]}, headers={"session": TOKEN}
        ).raise_for_status()
        applied = box.cli(["apply", str(out)])
        assert applied.code == 1
        assert "stale" in applied.output and "octi-tanium plan" in applied.output


def test_apply_without_confirmation_in_a_pipeline_refuses() -> None:
    with tanium_sandbox() as box:
        result = box.cli(["apply", "--policies", str(EVERYTHING), "--source", SOURCE])
        assert result.code == 1
        assert "--auto-approve" in result.output


def test_run_once_converges() -> None:
    with tanium_sandbox() as box:
        first = box.cli(["run", "--once", "--policies", str(EVERYTHING), "--source", SOURCE])
        assert first.code == 0, first.output
        again = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", SOURCE, "--detailed-exitcode"]
        )
        assert again.code == 0


def test_errors_say_what_to_do() -> None:
    with tanium_sandbox() as box:
        missing = box.cli(["plan", "--policies", str(EVERYTHING), "--source", "bundle:/nope.json"])
        assert missing.code == 1 and "cannot read bundle /nope.json" in missing.output
        bad_source = box.cli(["plan", "--policies", str(EVERYTHING), "--source", "misp"])
        assert bad_source.code == 1 and "bundle:PATH" in bad_source.output
        no_url = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", SOURCE], env={"TANIUM_URL": ""}
        )
        assert no_url.code == 1 and "TANIUM_URL" in no_url.output
        wrong_token = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", SOURCE],
            env={"TANIUM_TOKEN": "token-wrong"},
        )
        assert wrong_token.code == 1 and "token-wrong" not in wrong_token.output
        assert "401" in wrong_token.output or "credentials" in wrong_token.output


def test_invalid_json_bundle_names_the_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bundle",\n "objects": [}')
    with tanium_sandbox() as box:
        result = box.cli(["plan", "--policies", str(EVERYTHING), "--source", f"bundle:{bad}"])
        assert result.code == 1 and f"{bad}:2:" in result.output
