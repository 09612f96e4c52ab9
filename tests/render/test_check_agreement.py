"""`validate` and `plan` give every YARA rule, signal and STIX pattern the same verdict.

Both layers format the one checker's verdict their own way (`validate` adds where in the policy
file, `plan` names the object and skips it as `invalid-content`); the verdict underneath —
error or not, and each problem's rule, line and message — must be identical.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller.core.desired import DesiredState, build_desired
from controller.core.diagnostics import Diagnostic
from controller.core.model import SourceObject, SourceSnapshot
from controller.policy.loader import LoadResult, load_policies
from controller.policy.static import content_findings
from controller.render import convert
from tests.corpus_files import CORPUS
from tests.render.test_check_signal import INVALID, VALID

YARA_FILES = sorted(p for p in (CORPUS / "yara").rglob("*") if p.suffix in (".yar", ".yara"))
SIGNAL_FILES = sorted((CORPUS / "tanium/signals").glob("*.signal.json"))
PATTERNS: list[dict[str, Any]] = json.loads(
    (CORPUS / "stix/patterns/stix21-patterns.json").read_text("utf-8")
)["records"]
STIX = [r["pattern"] for r in PATTERNS if r["pattern_type"] == "stix"]
MADE_UP = {
    "owner-as-number.yar": "rule r { condition: owner > 5 }",
    "owner-as-string.yar": 'rule r { condition: owner == "root" }',
    "syntax-error.yar": "rule ok { condition: true }\nrule broken {\n  condition:\n    x and\n}\n",
    "other-file-rule.yar": "rule needs_private { condition: PrikormkaDropper }",
    "tanium-lacks-module.yar": 'import "console"\nrule logs { condition: true }\n',
    "local-lacks-module.yar": 'import "cuckoo"\nrule m { condition: cuckoo.sync.mutex(/x/) }',
    "no-rule.yar": "// nothing here\n",
}
KEY = "static:corpus"
NOW = datetime(2025, 1, 1, tzinfo=UTC)

Found = tuple[str, str | None, str | None, str]
"""(severity, YARA rule, line, message): one problem, as either layer reports it."""

_VALIDATE_YARA = re.compile(
    r"^StaticIntel 'corpus': YARA(?: does not compile)?: (?:rule '([^']+)', )?"
    r"(?:line (\d+) of )?rule\.yar: (.*)$",
    re.DOTALL,
)
_PLAN_YARA = re.compile(
    r"^(?:invalid )?YARA indicator 'corpus': (?:rule '([^']+)', )?(?:line (\d+): )?(.*)$",
    re.DOTALL,
)


def _both(tmp_path: Path, content_type: str, file: Path) -> tuple[LoadResult, DesiredState]:
    """Validate a StaticIntel holding `file`, then build the desired state `plan` would."""
    shutil.copy(file, tmp_path / ("rule.yar" if content_type == "yara" else "rule.sig"))
    name = "rule.yar" if content_type == "yara" else "rule.sig"
    (tmp_path / "static.yaml").write_text(
        "apiVersion: octi-tanium/v1\nkind: StaticIntel\nmetadata: {name: corpus}\n"
        f"spec: {{type: {content_type}, file: {name}}}\n",
        encoding="utf-8",
    )
    loaded = load_policies(tmp_path)
    desired = build_desired(loaded.policies, SourceSnapshot(objects=()), now=NOW)
    return loaded, desired


def _parsed(pattern: re.Pattern[str], severity: str, message: str) -> Found:
    match = pattern.match(message)
    assert match, message
    rule, line, said = match.groups()
    return (severity, rule, line, said)


def _plan_found(desired: DesiredState, parse: re.Pattern[str]) -> list[Found]:
    mine: list[Diagnostic] = [d for d in desired.diagnostics if d.key == KEY]
    return sorted(_parsed(parse, d.severity, d.message) for d in mine)


def _assert_one_verdict(loaded: LoadResult, desired: DesiredState) -> None:
    rejected = not loaded.ok
    skipped = [s for s in desired.skipped if s.key == KEY]
    assert [s.reason for s in skipped] == (["invalid-content"] if rejected else [])
    assert (KEY in desired.intel) is not rejected


def _yara_cases() -> list[tuple[str, str]]:
    return [(p.name, p.read_text("utf-8")) for p in YARA_FILES] + sorted(MADE_UP.items())


@pytest.mark.parametrize(("name", "text"), _yara_cases(), ids=[n for n, _ in _yara_cases()])
def test_yara_gets_one_verdict(tmp_path: Path, name: str, text: str) -> None:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    folder = tmp_path / "policies"
    folder.mkdir()
    loaded, desired = _both(folder, "yara", file)
    _assert_one_verdict(loaded, desired)
    validated = sorted(_parsed(_VALIDATE_YARA, d.severity, d.message) for d in loaded.diagnostics)
    assert validated == _plan_found(desired, _PLAN_YARA)


def test_the_yara_cases_have_every_verdict(tmp_path: Path) -> None:
    verdicts = set()
    for name, text in _yara_cases():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "in.yar").write_text(text, encoding="utf-8")
        (folder / "policies").mkdir()
        loaded, _ = _both(folder / "policies", "yara", folder / "in.yar")
        verdicts.add((loaded.ok, bool(loaded.diagnostics)))
    assert verdicts == {(True, False), (True, True), (False, True)}


def _signal_cases() -> list[str]:
    texts = [p.read_text("utf-8") for p in SIGNAL_FILES]
    texts += [json.loads(t)["contents"] for t in texts]
    texts += VALID + [text for text, _ in INVALID]
    return [t for t in texts if t.strip()]  # empty content is refused before any check


@pytest.mark.parametrize("text", _signal_cases())
def test_signal_gets_one_verdict(tmp_path: Path, text: str) -> None:
    file = tmp_path / "in.sig"
    file.write_text(text, encoding="utf-8")
    folder = tmp_path / "policies"
    folder.mkdir()
    loaded, desired = _both(folder, "tanium-signal", file)
    _assert_one_verdict(loaded, desired)
    validated = [
        d.message.removeprefix("StaticIntel 'corpus': Tanium Signal in rule.sig is invalid: ")
        for d in loaded.diagnostics
    ]
    planned = [
        d.message.removeprefix("invalid Tanium Signal: ")
        for d in desired.diagnostics
        if d.key == KEY
    ]
    assert validated == planned
    assert all(d.severity == "error" for d in loaded.diagnostics)


@pytest.mark.parametrize("pattern", STIX, ids=[p[:60] for p in STIX])
def test_stix_pattern_gets_one_verdict(pattern: str) -> None:
    validated = content_findings("stix", pattern, "pattern", ())
    conversion = convert(
        SourceObject(
            standard_id="indicator--00000000-0000-4000-8000-000000000000",
            entity_type="Indicator",
            pattern=pattern,
            pattern_type="stix",
        )
    )
    invalid_ = (conversion.skip_reason or "").startswith("invalid STIX pattern: ")
    assert invalid_ is bool(validated)
    if invalid_:
        [finding] = validated
        assert finding.severity == "error"
        said = finding.message.removeprefix("STIX pattern in pattern is invalid: ")
        assert conversion.skip_reason == f"invalid STIX pattern: {said}"


def test_the_stix_corpus_has_both_verdicts() -> None:
    assert {bool(content_findings("stix", p, "pattern", ())) for p in STIX} == {True, False}
