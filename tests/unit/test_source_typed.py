"""`SourceObject.typed` (no validation, for mappers that typed every field) builds exactly the
object the validating constructor builds, and the STIX mapping that uses it reads a user's
bundle as before: same objects, same errors for unreadable input."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import SourceObject
from controller.sources.bundle import BundleError, parse_bundle, read_bundle
from controller.sources.stix import to_source_object

TEXT = st.text(max_size=12)
TIMES = st.none() | st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]),
)
FIELDS = st.fixed_dictionaries(
    {
        "standard_id": st.from_regex(r"indicator--[0-9a-f]{8}", fullmatch=True),
        "entity_type": st.sampled_from(["Indicator", "IPv4-Addr", "Url", "StixFile"]),
    },
    optional={
        "internal_id": st.none() | TEXT,
        "name": TEXT,
        "description": TEXT,
        "pattern": st.none() | TEXT,
        "pattern_type": st.none() | TEXT,
        "valid_from": TIMES,
        "valid_until": TIMES,
        "revoked": st.booleans(),
        "detection": st.none() | st.booleans(),
        "platforms": st.lists(TEXT, max_size=3).map(tuple),
        "main_observable_type": st.none() | TEXT,
        "value": st.none() | TEXT,
        "hashes": st.dictionaries(TEXT, TEXT, max_size=2),
        "score": st.none() | st.integers(-5, 105),
        "confidence": st.none() | st.integers(0, 100),
        "labels": st.lists(TEXT, max_size=3).map(tuple),
        "markings": st.lists(TEXT, max_size=2).map(tuple),
        "created": TIMES,
        "modified": TIMES,
    },
)


@settings(max_examples=200, deadline=None)
@given(fields=FIELDS)
def test_typed_equals_validated(fields: dict[str, Any]) -> None:
    validated = SourceObject(**fields)
    typed = SourceObject.typed(dict(fields))
    assert typed == validated and validated == typed
    assert typed.model_dump() == validated.model_dump()
    assert list(typed.model_dump()) == list(SourceObject.model_fields)
    assert typed.model_dump_json() == validated.model_dump_json()
    assert pickle.loads(pickle.dumps(typed)) == validated
    assert typed.model_copy(update={"name": "x"}).name == "x"
    assert typed.is_indicator == (fields["entity_type"] == "Indicator")


def test_typed_refuses_unknown_or_missing_fields() -> None:
    with pytest.raises(TypeError, match="no field"):
        SourceObject.typed({"standard_id": "a", "entity_type": "Url", "colour": "red"})
    with pytest.raises(TypeError, match="needs standard_id"):
        SourceObject.typed({"entity_type": "Url"})


def test_typed_objects_have_their_own_hashes() -> None:
    a = SourceObject.typed({"standard_id": "a", "entity_type": "StixFile"})
    b = SourceObject.typed({"standard_id": "b", "entity_type": "StixFile"})
    assert a.hashes == {} and a.hashes is not b.hashes


GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def _indicator(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "id": f"indicator--{i:08x}-0000-4000-8000-000000000000",
        "created": "2026-01-02T03:04:05.000Z",
        "modified": "2026-01-02T03:04:05.000+02:00",
        "name": f"n{i}",
        "pattern": f"[ipv4-addr:value = '10.0.0.{i}']",
        "pattern_type": "STIX",
        "valid_from": "2026-01-02T03:04:05",
        "labels": ["a", {"value": "b"}],
        "object_marking_refs": [GREEN, "marking-definition--unknown"],
        "x_opencti_score": "42",
        "x_opencti_detection": True,
        "x_mitre_platforms": ["windows"],
        **extra,
    }


def test_the_stix_mapping_builds_what_validation_builds() -> None:
    """Each mapped object equals the object validated from its own dump; repeated values
    are shared, and a timestamp keeps the zone it was written in."""
    objects = [to_source_object(_indicator(i), {GREEN: "TLP:GREEN"}) for i in range(3)]
    ipv4 = {
        "type": "ipv4-addr",
        "id": "ipv4-addr--00000000-0000-4000-8000-000000000001",
        "value": "10.0.0.1",
        "x_opencti_score": 7,
        "hashes": {"MD5": "x"},
    }
    objects.append(to_source_object(ipv4, {}))
    for obj in objects:
        assert obj is not None
        assert obj == SourceObject(**obj.model_dump())
    first, second = objects[0], objects[1]
    assert first is not None and second is not None
    assert first.labels == ("a", "b") and first.labels is second.labels
    assert first.markings == ("TLP:GREEN", "UNKNOWN:marking-definition--unknown")
    assert first.markings is second.markings
    assert first.pattern_type == "stix" and first.score == 42 and first.platforms == ("windows",)
    assert first.created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert first.modified is not None and first.modified.utcoffset() == timedelta(hours=2)
    assert first.valid_from is not None and first.valid_from.tzinfo is UTC
    assert objects[3] is not None and objects[3].hashes == {"MD5": "x"}


def test_bad_objects_are_still_named(tmp_path: Path) -> None:
    bad = _indicator(1, id="indicator--not-a-uuid")
    objects, problems = parse_bundle([_indicator(0), bad, {"type": "note"}])
    assert [o.name for o in objects] == ["n0"]
    assert problems == ["indicator with an invalid id 'indicator--not-a-uuid'"]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"type": "bundle", "objects": [bad]}), encoding="utf-8")
    snapshot = read_bundle(path, now=datetime.now(UTC))
    assert not snapshot.complete and "could not be read" in snapshot.incomplete_reasons[0]
    path.write_text('{"type": "bundle", "objects": [', encoding="utf-8")
    with pytest.raises(BundleError, match="invalid JSON"):
        read_bundle(path, now=datetime.now(UTC))
