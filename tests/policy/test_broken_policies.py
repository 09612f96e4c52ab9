"""One `validate` run over a folder of broken policies finds every mistake, where it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.core.diagnostics import Diagnostic
from controller.policy.loader import LoadResult
from controller.policy.validate import format_json, format_text, validate

HERE = Path(__file__).resolve().parent
BROKEN = HERE / "broken"

# file:line:col (relative to tests/policy/), severity, fragments the message must contain.
EXPECTED: list[tuple[str, str, tuple[str, ...]]] = [
    ("broken/api-version.yaml:2:13", "error",
     ("at apiVersion:", "'octi-tanium/v2' is not allowed", "did you mean 'octi-tanium/v1'?")),
    ("broken/bad-cidr.yaml:9:7", "error",
     ("at spec.values.1:", "'10.0.0.1/8' is not a valid CIDR range", "host bits set",
      "did you mean '10.0.0.0/8'?")),
    ("broken/bad-duration.yaml:9:15", "error",
     ("at spec.select.created.within:", "invalid duration '3 months'", "30m, 12h, 90d, 2w")),
    ("broken/bad-enum.yaml:9:26", "error",
     ("at spec.select.patternTypes.1:", "'tanium_signal' is not allowed",
      "did you mean 'tanium-signal'?")),
    ("broken/bad-hash-list.yaml:8:3", "error",
     ("StaticIntel 'bad-hash-list'", "line 4 of rules/hashes.txt", "'not-a-hash' is not a hash")),
    ("broken/bad-hash.yaml:9:7", "error",
     ("at spec.hashes.1:", "'44d88612fea8a8f36de82e1278abb02ff' is not a hash", "33 hex digits")),
    ("broken/bad-name.yaml:5:9", "error",
     ("at metadata.name:", "invalid name 'internal infra'")),
    ("broken/bad-signal.yaml:8:3", "error",
     ("StaticIntel 'bad-signal'", "Tanium Signal in content is invalid", "column 14",
      "found 'endswith'", "did you mean 'ends with'?")),
    ("broken/conflicting-labels.yaml:10:32", "error",
     ("IntelPolicy 'conflicting-labels'",
      "label 'emotet' is in both labels.anyOf and labels.noneOf")),
    ("broken/conflicting-types.yaml:9:5", "error",
     ("IntelPolicy 'conflicting-types'", "patternTypes filters indicators",
      "entityTypes does not include Indicator")),
    ("broken/conflicting-window.yaml:9:14", "error",
     ("IntelPolicy 'conflicting-window'", "created.after (2024-06-01T00:00:00+00:00) is not "
      "earlier than created.before (2024-01-01T00:00:00+00:00)")),
    ("broken/duplicate-b.yaml:5:9", "error",
     ("duplicate IntelPolicy name 'duplicated'", "also defined at broken/duplicate-a.yaml:5:9")),
    ("broken/invalid-yara.yaml:8:3", "error",
     ("StaticIntel 'invalid-yara'", "YARA does not compile", "rule 'dangling_and'",
      "line 6 of content", "syntax error")),
    ("broken/missing-key.yaml:6:1", "error",
     ("IntelPolicy 'missing-key' at spec.target:", "missing required key 'target'")),
    ("broken/missing-reason.yaml:6:1", "error",
     ("Exclusion 'missing-reason' at spec.reason:", "missing required key 'reason'")),
    ("broken/misspelt-key.yaml:8:5", "error",
     ("at spec.select.minScroe:", "unknown key 'minScroe'", "did you mean 'minScore'?")),
    ("broken/platform-conflict.yaml:17:24", "error",
     ("IntelPolicy 'linux-only'", "IntelPolicy 'windows-only' (broken/platform-conflict.yaml:6:11)",
      "platforms [linux]", "[windows]")),
    ("broken/quickscan-without-intel.yaml:8:5", "error",
     ("at spec.target.quickScan:", "needs target.intel")),
    ("broken/several-errors.yaml:8:30", "error",
     ("at spec.select.entityTypes.1:", "'IPv4-Address' is not allowed",
      "did you mean 'IPv4-Addr'?")),
    ("broken/several-errors.yaml:9:15", "error",
     ("at spec.select.minScore:", "less than or equal to 100", "150")),
    ("broken/several-errors.yaml:10:16", "error",
     ("at spec.select.markings.0:", "'TLP:GREN' is not allowed", "did you mean 'TLP:GREEN'?")),
    ("broken/several-errors.yaml:13:28", "error",
     ("at spec.target.intel.platforms.1:", "'macos' is not allowed", "did you mean 'mac'?")),
    ("broken/several-errors.yaml:14:3", "error",
     ("at spec.priorty:", "unknown key 'priorty'", "did you mean 'priority'?")),
    ("broken/static-name-clash.yaml:15:9", "error",
     ("StaticIntel 'clash-two'", "intel document 'known bad files'",
      "StaticIntel 'clash-one' at broken/static-name-clash.yaml:7:9")),
    ("broken/static-outside.yaml:8:9", "error",
     ("StaticIntel 'static-outside'", "/etc/hostname is not a relative path")),
    ("broken/tlp-red.yaml:10:9", "error",
     ("at spec.select.markings.1:", "TLP:RED", "allowRed: true")),
    ("broken/two-settings.yaml:9:7", "error",
     ("a second Settings document ('more-settings')",
      "the first is 'settings' at broken/two-settings.yaml:3:7")),
    ("broken/unknown-key.yaml:7:5", "error",
     ("at spec.select.colour:", "unknown key 'colour'", "allowed here: entityTypes")),
    ("broken/unknown-kind.yaml:3:7", "error",
     ("unknown kind 'IntelPolicies'", "did you mean 'IntelPolicy'?")),
    ("broken/unreadable-static.yaml:8:9", "error",
     ("StaticIntel 'unreadable-static'", "cannot read rules/missing.yar")),
    ("broken/wrong-type.yaml:8:15", "error",
     ("at spec.select.minScore:", "expected an integer, got 'high'")),
    ("broken/yaml-syntax.yaml:14:9", "error",
     ("invalid YAML", "while parsing a flow sequence at line 13, column 18")),
    ("broken/yara-module.yaml:8:3", "warning",
     ("StaticIntel 'yara-module'", "rule 'mutex_seen'", "line 5 of rules/cuckoo.yar",
      "module 'cuckoo'", "local YARA lacks")),
]  # fmt: skip


def _where(d: Diagnostic) -> str:
    assert d.file is not None, d.message
    return d.where


@pytest.fixture(scope="module")
def result() -> LoadResult:
    """Validate once, from tests/policy/, like `octi-tanium validate --policies broken`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(HERE)
        return validate(Path("broken"))


def test_one_run_reports_every_expected_problem_and_nothing_else(result: LoadResult) -> None:
    found = [(_where(d), d.severity) for d in result.diagnostics]
    assert found == [(where, severity) for where, severity, _ in EXPECTED]


@pytest.mark.parametrize(("where", "severity", "fragments"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_each_problem_is_reported_at_its_exact_position(
    result: LoadResult, where: str, severity: str, fragments: tuple[str, ...]
) -> None:
    here = [d for d in result.diagnostics if _where(d) == where and d.severity == severity]
    assert here, f"nothing reported at {where}"
    message = " ".join(d.message for d in here)
    for fragment in fragments:
        assert fragment in message


def test_every_fixture_file_is_expected_to_fail_somewhere(result: LoadResult) -> None:
    files = {p.relative_to(HERE).as_posix() for p in BROKEN.glob("*.yaml")}
    expected = {where.split(":")[0] for where, _, _ in EXPECTED}
    assert files - {"broken/duplicate-a.yaml"} == expected


def test_broken_policies_are_invalid(result: LoadResult) -> None:
    assert not result.ok
    assert format_json(result)["valid"] is False


def test_the_document_before_a_yaml_syntax_error_is_still_loaded(result: LoadResult) -> None:
    names = {item.document.metadata.name for item in result.policies.intel_policies}
    assert "yaml-syntax-ok" in names
    assert "yaml-syntax-broken" not in names


def test_the_first_of_two_duplicates_is_kept(result: LoadResult) -> None:
    kept = [i for i in result.policies.intel_policies if i.document.metadata.name == "duplicated"]
    assert [Path(i.position.file).name for i in kept] == ["duplicate-a.yaml"]


def test_json_diagnostics_carry_the_same_positions_as_the_text(result: LoadResult) -> None:
    report = json.loads(json.dumps(format_json(result)))
    text = format_text(result)
    json_positions = []
    for entry in report["diagnostics"]:
        start = entry["range"]["start"]
        json_positions.append(f"{entry['range']['filename']}:{start['line']}:{start['column']}")
    assert [f"{d.file}:{d.line}:{d.col}" for d in result.diagnostics] == json_positions
    for d, entry in zip(result.diagnostics, report["diagnostics"], strict=True):
        assert f"{d.severity}: {d.file}:{d.line}:{d.col}: {entry['summary']}" in text
        assert entry["severity"] == d.severity


def test_json_report_has_the_terraform_validate_shape(result: LoadResult) -> None:
    report = format_json(result)
    assert list(report) == [
        "format_version",
        "valid",
        "error_count",
        "warning_count",
        "diagnostics",
    ]
    assert report["format_version"] == "1.0"
    errors = sum(1 for _, severity, _ in EXPECTED if severity == "error")
    assert (report["error_count"], report["warning_count"]) == (errors, len(EXPECTED) - errors)
    first = report["diagnostics"][0]
    assert set(first) == {"severity", "summary", "detail", "range", "address", "snippet"}
    assert first["range"]["end"] == {"line": first["range"]["start"]["line"], "column": 14}


def test_text_report_shows_a_snippet_with_a_caret_under_the_column(result: LoadResult) -> None:
    text = format_text(result)
    assert "  14 |   priorty: 5\n     |   ^" in text
    assert (
        "   8 |     entityTypes: [Indicator, IPv4-Address]\n     |                              ^"
        in text
    )
    assert text.endswith(
        f"{sum(1 for e in EXPECTED if e[1] == 'error')} errors, 1 warning in "
        f"{len(result.files)} files."
    )
