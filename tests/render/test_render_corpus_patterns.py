"""Every pattern of the corpus (tests/corpus/) is rendered, or skipped with a specific reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree
from stix2patterns.validator import validate

from controller.core.model import SourceObject
from controller.render import convert, render_intel
from tests.corpus_files import CORPUS, MISSING, require

PATTERNS = CORPUS / "stix/patterns/stix21-patterns.json"
# A missing file gives one placeholder record whose test fails naming the file.
RECORDS: list[dict[str, Any]] = (
    json.loads(PATTERNS.read_text("utf-8"))["records"]
    if PATTERNS.is_file()
    else [{"pattern": MISSING, "pattern_type": MISSING}]
)
UNFAITHFUL = "STIX pattern not convertible to OpenIOC: "


def _indicator(record: dict[str, Any], index: int) -> SourceObject:
    return SourceObject(
        standard_id=f"indicator--00000000-0000-4000-8000-{index:012d}",
        entity_type="Indicator",
        name=f"corpus pattern {index}",
        pattern=record["pattern"],
        pattern_type=record["pattern_type"],
    )


def _id(record: dict[str, Any]) -> str:
    return f"{record['pattern_type']}:{record['pattern'][:60]}"


@pytest.mark.parametrize(
    ("index", "record"), list(enumerate(RECORDS)), ids=[_id(r) for r in RECORDS]
)
def test_corpus_pattern_is_rendered_or_skipped_with_a_specific_reason(
    index: int, record: dict[str, Any]
) -> None:
    if record["pattern"] == MISSING:
        require("stix/patterns/stix21-patterns.json")
    conversion = convert(_indicator(record, index))
    if record["pattern_type"] != "stix":
        if record["pattern_type"] == "yara":
            assert conversion.skip_reason is not None or conversion.intel
        else:
            reason = f"pattern type '{record['pattern_type']}' not supported by Tanium"
            assert conversion.skip_reason == reason
        return
    if record["stix2patterns_2_1"] == "invalid":
        ok, errors = validate(record["pattern"], stix_version="2.1", ret_errs=True)
        assert not ok
        assert conversion.skip_reason == "invalid STIX pattern: " + "; ".join(errors)
        assert [d.severity for d in conversion.diagnostics] == ["error"]
        assert conversion.diagnostics[0].key == _indicator(record, index).standard_id
        return
    if conversion.skip_reason is not None:
        assert conversion.skip_reason.startswith(UNFAITHFUL)
        assert len(conversion.skip_reason) > len(UNFAITHFUL) + 20
        assert not conversion.intel and not conversion.files  # never half-converted
        assert [d.severity for d in conversion.diagnostics] == ["warning"]
        return
    assert conversion.intel
    for candidate in conversion.intel:
        desired = render_intel(candidate)
        root = etree.fromstring(desired.content.encode("utf-8"))
        assert root.get("id") == desired.key


def test_corpus_covers_every_outcome() -> None:
    outcomes = {
        "rendered": 0,
        "unfaithful": 0,
        "invalid": 0,
        "unsupported type": 0,
    }
    for index, record in enumerate(RECORDS):
        reason = convert(_indicator(record, index)).skip_reason
        if reason is None:
            outcomes["rendered"] += 1
        elif reason.startswith(UNFAITHFUL):
            outcomes["unfaithful"] += 1
        elif reason.startswith("invalid"):
            outcomes["invalid"] += 1
        else:
            outcomes["unsupported type"] += 1
    assert all(outcomes.values()), outcomes
