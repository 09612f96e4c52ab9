"""`validate` and `plan` give content held in Git one verdict, through the real command line.

The bug this pins: `rule r { condition: owner > 5 }` passed `validate` with a warning and was
then dropped by `plan` as invalid content, because each had its own YARA check.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from tests.e2e.harness import Sandbox, tanium_sandbox

OWNER_AS_NUMBER = "rule r { condition: owner > 5 }"
OWNER_VERDICT = "type mismatch ('owner': a string external variable"
FILENAME_WARNING = "uses the external variable 'filename' of the LOKI/THOR file scanners"


def _policies(tmp_path: Path, spec: str) -> Path:
    folder = tmp_path / "desired"
    folder.mkdir()
    (folder / "static.yaml").write_text(
        "apiVersion: octi-tanium/v1\nkind: StaticIntel\nmetadata: {name: git-held}\nspec:\n"
        + textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
        + "\n",
        encoding="utf-8",
    )
    return folder


def _source(tmp_path: Path) -> str:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": []}))
    return f"bundle:{bundle}"


def _plan(box: Sandbox, policies: Path, source: str) -> tuple[int, str, dict[str, Any]]:
    result = box.cli(["plan", "--policies", str(policies), "--source", source, "--format", "json"])
    data: dict[str, Any] = {}
    if result.code in (0, 2):
        data = json.loads(result.output[result.output.index("{") :])
    return result.code, result.output, data


def test_owner_used_as_a_number_fails_validate_and_plan_with_the_same_message(
    tmp_path: Path,
) -> None:
    policies = _policies(tmp_path, f"type: yara\ncontent: {json.dumps(OWNER_AS_NUMBER)}")
    with tanium_sandbox() as box:
        validated = box.cli(["validate", "--policies", str(policies)])
        code, output, _ = _plan(box, policies, _source(tmp_path))
    assert validated.code == 1, validated.output
    assert "1 error, 1 warning in 1 file." in validated.output
    [error] = [line for line in validated.output.splitlines() if line.startswith("error: ")]
    assert "StaticIntel 'git-held': YARA does not compile: rule 'r', line 1 of content" in error
    assert OWNER_VERDICT in error
    assert code == 1
    said = " ".join(error.removeprefix("error: ").split())
    assert said in " ".join(output.split())  # the very same diagnostic (the terminal wraps it)


def test_a_string_external_passes_validate_and_plan_with_the_same_warning(
    tmp_path: Path,
) -> None:
    rule = 'rule amsi { condition: filename == "amsi.dll" }'
    policies = _policies(tmp_path, f"type: yara\ncontent: {json.dumps(rule)}")
    with tanium_sandbox() as box:
        validated = box.cli(["validate", "--policies", str(policies)])
        code, output, plan = _plan(box, policies, _source(tmp_path))
    assert validated.code == 0, validated.output
    assert "Success! 1 file valid, 1 warning." in validated.output
    assert f"rule 'amsi', line 1 of content: {FILENAME_WARNING}" in validated.output
    assert code == 0, output
    assert plan["skipped"] == []
    [item] = [i for i in plan["items"] if i["kind"] == "intel"]
    assert (item["action"], item["key"]) == ("create", "static:git-held")
    [warning] = plan["diagnostics"]
    assert warning["severity"] == "warning" and warning["key"] == "static:git-held"
    assert f"rule 'amsi', line 1: {FILENAME_WARNING}" in warning["message"]


def test_a_json_signal_document_passes_validate_and_plan_sends_its_expression(
    tmp_path: Path,
) -> None:
    document = {"name": "cmd", "contents": "process.name is 'cmd.exe'", "platforms": ["windows"]}
    spec = f"type: tanium-signal\ncontent: |\n  {json.dumps(document)}"
    policies = _policies(tmp_path, spec)
    with tanium_sandbox() as box:
        validated = box.cli(["validate", "--policies", str(policies)])
        code, output, plan = _plan(box, policies, _source(tmp_path))
        applied = box.cli(
            ["apply", "--policies", str(policies), "--source", _source(tmp_path), "--auto-approve"]
        )
        state = box.state()
    assert validated.code == 0 and "Success! 1 file valid." in validated.output
    assert code == 0, output
    assert plan["skipped"] == [] and plan["diagnostics"] == []
    assert [i["key"] for i in plan["items"] if i["kind"] == "intel"] == ["static:git-held"]
    assert applied.code == 0, applied.output
    [doc] = state["intels"]
    assert "process.name is 'cmd.exe'" in json.dumps(doc)
