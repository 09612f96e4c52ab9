"""A policy that selects nothing is a warning in `validate --source` and in the plan, where
`validate`'s other warnings are repeated too."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from controller.cli import main
from tests.conftest import CORPUS
from tests.e2e.harness import tanium_sandbox

BUNDLE = CORPUS / "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json"
SOURCE = f"bundle:{BUNDLE}"
EVERYTHING = (
    "apiVersion: octi-tanium/v1\nkind: IntelPolicy\nmetadata: {name: everything}\n"
    "spec:\n  select: {}\n  target: {intel: {}}\n"
)
NOTHING = (
    "apiVersion: octi-tanium/v1\nkind: IntelPolicy\nmetadata: {name: misspelt}\n"
    "spec:\n  select: {labels: {anyOf: [emotte]}}\n  target: {intel: {}}\n"
)


def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "desired"
    folder.mkdir()
    (folder / "everything.yaml").write_text(EVERYTHING)
    (folder / "misspelt.yaml").write_text(NOTHING)
    return folder


def test_validate_with_a_source_warns_about_a_policy_selecting_nothing(tmp_path: Path) -> None:
    folder = policies(tmp_path)
    offline = CliRunner().invoke(main, ["validate", "--policies", str(folder)])
    assert offline.exit_code == 0 and "misspelt" not in offline.output
    result = CliRunner().invoke(main, ["validate", "--policies", str(folder), "--source", SOURCE])
    assert result.exit_code == 0, result.output
    assert f"{folder / 'misspelt.yaml'}:1:1" in result.output
    assert "policy 'misspelt' selects none of the" in result.output
    assert "policy 'everything'" not in result.output
    assert "1 warning" in result.output
    annotated = CliRunner().invoke(
        main, ["validate", "--policies", str(folder), "--source", SOURCE, "--format", "github"]
    )
    assert f"::warning file={folder / 'misspelt.yaml'},line=1,col=1," in annotated.output


def test_the_plan_repeats_the_warnings(tmp_path: Path) -> None:
    folder = policies(tmp_path)
    with tanium_sandbox() as box:
        plan = box.plan_json(folder, SOURCE)
    messages = [d["message"] for d in plan["diagnostics"] if d["severity"] == "warning"]
    assert any("policy 'misspelt' selects none of the" in m for m in messages), messages
    assert not any("'everything'" in m for m in messages)
    assert json.dumps(plan).count("selects none") == 1


def test_a_validate_warning_is_repeated_in_the_plan(tmp_path: Path) -> None:
    folder = policies(tmp_path)
    (folder / "exclusion.yaml").write_text(
        "apiVersion: octi-tanium/v1\nkind: Exclusion\nmetadata: {name: nothing}\n"
        "spec: {reason: none yet}\n"
    )
    validated = CliRunner().invoke(main, ["validate", "--policies", str(folder)])
    assert validated.exit_code == 0 and "it excludes nothing" in validated.output
    with tanium_sandbox() as box:
        plan = box.plan_json(folder, SOURCE)
    [repeated] = [d for d in plan["diagnostics"] if "it excludes nothing" in d["message"]]
    assert repeated["severity"] == "warning"
    assert repeated["file"] == str(folder / "exclusion.yaml") and repeated["line"]
