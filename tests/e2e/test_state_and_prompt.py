"""`state list` (what the controller owns now, live or from a snapshot) and the interactive
apply prompt (names the target, takes `yes` only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import main
from controller.cli.prompt import confirmed
from controller.core.plan import Inputs, Plan
from tests.conftest import CORPUS
from tests.e2e.harness import tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING

BUNDLE = CORPUS / "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json"


def test_state_list_shows_what_is_owned_live_and_in_a_snapshot(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    with tanium_sandbox(seed="demo") as box:
        empty = box.cli(["state", "list", "--policies", str(EVERYTHING), "--format", "json"])
        assert empty.code == 0 and json.loads(empty.output) == []
        applied = box.cli(
            [
                "apply",
                "--policies",
                str(EVERYTHING),
                "--source",
                f"bundle:{BUNDLE}",
                "--auto-approve",
            ]
        )
        assert applied.code == 0, applied.output
        live = box.cli(["state", "list", "--policies", str(EVERYTHING), "--format", "json"])
        assert (
            box.cli(["snapshot", "--policies", str(EVERYTHING), "--out", str(snapshot)]).code == 0
        )
        text = box.cli(["state", "list", "--policies", str(EVERYTHING)])
    owned = json.loads(live.output)
    assert owned and {o["kind"] for o in owned} <= {"intel", "blocklist"}
    assert all({"kind", "key", "tanium_id", "name"} <= set(o) for o in owned)
    assert [o["key"] for o in owned if o["kind"] == "intel"] == sorted(
        o["key"] for o in owned if o["kind"] == "intel"
    )
    assert len(text.output.strip().splitlines()) == len(owned)
    offline = CliRunner().invoke(
        main,
        [
            "state",
            "list",
            "--policies",
            str(EVERYTHING),
            "--format",
            "json",
            "--actual",
            f"snapshot:{snapshot}",
        ],
        env={"TANIUM_URL": None, "TANIUM_TOKEN": None},
    )
    assert offline.exit_code == 0, offline.output
    assert json.loads(offline.output) == owned


def plan_for(url: str) -> Plan:
    return Plan(inputs=Inputs(tanium_url=url, source_name="OpenCTI (octi-tanium)"))


@pytest.mark.parametrize(("answer", "applies"), [("yes", True), ("y", False), ("", False)])
def test_the_prompt_names_the_target_and_takes_yes_only(answer: str, applies: bool) -> None:
    runner = CliRunner()
    with runner.isolation(input=f"{answer}\n") as (out, _err, _):
        assert confirmed(plan_for("https://tanium.example")) is applies
        shown = out.getvalue().decode()
    assert (
        'Apply these changes to https://tanium.example (source "OpenCTI (octi-tanium)")?' in shown
    )
    assert "Only 'yes' will be accepted." in shown
