"""Exit codes, for every command: usage errors exit 1 (never 2), 2 only for "changes present"
with `--detailed-exitcode`, 3 only for "blocked by a guard" (docs/ci.md#exit-codes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import main
from tests.conftest import CORPUS
from tests.e2e.harness import tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING

BUNDLE = CORPUS / "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json"
SOURCE = f"bundle:{BUNDLE}"
COMMANDS = [
    ["validate"],
    ["plan"],
    ["show"],
    ["apply"],
    ["run"],
    ["sandbox"],
    ["schema"],
    ["pr-comment"],
    ["snapshot"],
    ["state", "list"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_an_unknown_option_is_a_usage_error_exiting_1(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--fromat", "markdown"])
    assert result.exit_code == 1, result.output
    assert "--fromat" in result.output


@pytest.mark.parametrize("command", [["nonsense"], ["state", "nonsense"], []])
def test_an_unknown_command_exits_1(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--nope"])
    assert result.exit_code == 1


def test_a_misspelt_option_writes_no_empty_plan(tmp_path: Path) -> None:
    """`plan --detailed-exitcode --fromat markdown > plan.md` fails with 1, naming the
    option, and writes nothing to stdout (the redirect gets no empty plan)."""
    result = CliRunner().invoke(main, ["plan", "--detailed-exitcode", "--fromat", "markdown"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "No such option '--fromat'" in result.stderr


def test_plan_exits_0_2_3_only_with_detailed_exitcode(tmp_path: Path) -> None:
    plan = ["plan", "--policies", str(EVERYTHING), "--source", SOURCE]
    with tanium_sandbox() as box:
        assert box.cli(plan).code == 0
        assert box.cli([*plan, "--detailed-exitcode"]).code == 2
        applied = box.cli(
            ["apply", "--policies", str(EVERYTHING), "--source", SOURCE, "--auto-approve"]
        )
        assert applied.code == 0, applied.output
        assert box.cli([*plan, "--detailed-exitcode"]).code == 0
        empty = tmp_path / "empty.json"
        empty.write_text('{"type": "bundle", "id": "bundle--1", "objects": []}')
        blocked = ["plan", "--policies", str(EVERYTHING), "--source", f"bundle:{empty}"]
        assert box.cli([*blocked, "--detailed-exitcode"]).code == 3
        assert box.cli(blocked).code == 0
        refused = box.cli(
            [
                "apply",
                "--policies",
                str(EVERYTHING),
                "--source",
                f"bundle:{empty}",
                "--auto-approve",
            ]
        )
        assert refused.code == 3, refused.output


def test_out_into_a_missing_folder_fails_before_any_work(tmp_path: Path) -> None:
    """No Tanium is configured: the error is the folder's, not a connection's."""
    out = tmp_path / "missing" / "dir" / "plan.json"
    for command in (
        ["plan", "--policies", str(EVERYTHING), "--source", SOURCE, "--out", str(out)],
        ["snapshot", "--policies", str(EVERYTHING), "--out", str(out)],
    ):
        result = CliRunner().invoke(main, command, env={"TANIUM_URL": None})
        assert result.exit_code == 1, result.output
        assert f"the folder {out.parent} does not exist" in result.output
        assert "Traceback" not in result.output and "TANIUM_URL" not in result.output


def test_validate_exits_1_on_errors_and_0_otherwise(tmp_path: Path) -> None:
    good = CliRunner().invoke(main, ["validate", "--policies", str(EVERYTHING)])
    assert good.exit_code == 0, good.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: octi-tanium/v1\nkind: IntelPolicy\nmetadata: {name: x}\n")
    for fmt in ("text", "json", "github"):
        result = CliRunner().invoke(main, ["validate", "--policies", str(bad), "--format", fmt])
        assert result.exit_code == 1, result.output
    github = CliRunner().invoke(main, ["validate", "--policies", str(bad), "--format", "github"])
    assert github.stdout.startswith(f"::error file={bad},line=")
