"""The flat path of the STIX mapping (`plain_indicator`, what a bundle's indicators take) gives
exactly what the general path (`_source_fields`) gives, whatever the values: plain, odd
(numbers as text, lone surrogates, upper-case pattern types, `{"value": ...}` labels), seen
before (the shared tables hit) or not; and the stream reader's shortcut over `json.dumps`'s
separators reads what `json.loads` reads."""

from __future__ import annotations

import json
import pickle
import sys
from collections.abc import Mapping
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from controller.core.model import SourceObject
from controller.sources.bundle import parse_bundle, stream_bundle
from controller.sources.stix import (
    _source_fields,
    newer_than,
    plain_indicator,
    source_fields,
    stamp,
    to_source_object,
    unwrap,
)

TEXT = st.sampled_from(["", "a", "Url", "url", "STIX", "stix", "yara", "é", "İ", "x\ud800", " 7"])
ODD = st.none() | st.booleans() | st.integers(-3, 300) | st.floats(-2, 2) | TEXT
TIME = st.sampled_from(
    ["2026-01-01T00:00:00Z", "2026-01-02T02:00:00.000+02:00", "2026-01-02T03:04:05", "", "x"]
)
STRINGS = st.lists(TEXT | st.builds(lambda v: {"value": v}, TEXT) | st.integers(0, 2), max_size=3)
IDS = st.sampled_from(
    [
        "indicator--00000000-0000-4000-8000-000000000001",
        "a-b--00000000-0000-4000-8000-0000000000AB",
        "indicator--00000000-0000-4000-8000-000000000001\n",
        "indicator--bad",
        "",
    ]
)

INDICATOR_FIELDS = [
    "name",
    "description",
    "pattern",
    "pattern_type",
    "labels",
    "x_opencti_labels",
    "object_marking_refs",
    "x_opencti_id",
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "confidence",
    "x_opencti_score",
    "x_opencti_detection",
    "revoked",
    "x_mitre_platforms",
    "x_opencti_main_observable_type",
]
INDICATOR = st.fixed_dictionaries(
    {"type": st.just("indicator"), "id": IDS | st.integers(0, 1) | st.none()},
    optional={
        "name": ODD,
        "description": ODD,
        "pattern": ODD,
        "pattern_type": ODD,
        "labels": STRINGS | ODD,
        "x_opencti_labels": STRINGS | ODD,
        "object_marking_refs": STRINGS | ODD,
        "x_opencti_id": ODD,
        "created": TIME | ODD,
        "modified": TIME | ODD,
        "valid_from": TIME | ODD,
        "valid_until": TIME | ODD,
        "confidence": ODD,
        "x_opencti_score": ODD,
        "x_opencti_detection": ODD,
        "revoked": ODD,
        "x_mitre_platforms": STRINGS | ODD,
        "x_opencti_main_observable_type": ODD,
    },
)


def _general(obj: dict[str, Any]) -> Any:
    try:
        return _source_fields(obj)
    except Exception as exc:  # the same error either way
        return repr(exc)


def _flat(obj: dict[str, Any]) -> Any:
    try:
        plain = plain_indicator(obj)
    except Exception as exc:
        return repr(exc)
    return _general(obj) if plain is None else plain


def _exactly(mapped: Any) -> Any:
    """The values in order, with their types (`True` is not `1`, a tuple not a list)."""
    if not isinstance(mapped, tuple):
        return mapped
    fields, refs = mapped
    return [(k, type(v), v) for k, v in fields.items()], refs


@settings(max_examples=1500, deadline=None)
@given(obj=INDICATOR)
def test_the_flat_path_maps_as_the_general_one(obj: dict[str, Any]) -> None:
    first = _flat(obj)  # the shared tables may not know these values yet
    expected = _general(obj)  # now they do
    again = _flat(obj)
    assert _exactly(first) == _exactly(expected) == _exactly(again)
    plain = plain_indicator(obj)
    if plain is not None:
        assert source_fields(obj) == plain
        assert plain[0]["modified"] == stamp(obj)  # what the bundle reader relies on
        fields = dict(plain[0], markings=())
        assert SourceObject.adopt(plain[0]) == SourceObject(**fields)


ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    7,
    -1,
    1.5,
    "7",
    "-3",
    "²",
    [],
    {},
    ["a"],
    "2026-01-01",
]
ODD_VALUES += ["", "a", "Url", "url", "STIX", "stix", "İ", "x\ud800", ["x\ud800"], [{"value": "b"}]]


def test_each_field_with_each_odd_value() -> None:
    """Every field alone with every odd value (the random test above may miss one)."""
    base = {"type": "indicator", "id": "indicator--00000000-0000-4000-8000-000000000001"}
    for field in INDICATOR_FIELDS:
        for value in ODD_VALUES:
            obj = {**base, field: value}
            for _ in range(2):  # unseen, then seen (the shared tables hit)
                assert _exactly(_flat(obj)) == _exactly(_general(obj)), (field, value)


def test_other_objects_take_the_general_path() -> None:
    valid = "indicator--00000000-0000-4000-8000-000000000001"
    assert plain_indicator({"type": "indicator", "id": "indicator--bad"}) is None
    assert plain_indicator({"type": "url", "id": valid, "value": "u"}) is None
    assert plain_indicator({"type": "indicator", "id": valid, "extensions": {}}) is None
    assert plain_indicator({"type": "indicator", "id": valid}) is not None


RECORD = st.fixed_dictionaries(
    {"type": st.just("indicator"), "id": IDS, "name": TEXT},
    optional={"modified": TIME, "labels": st.lists(TEXT, max_size=2)},
)


@settings(max_examples=200, deadline=None)
@given(
    records=st.lists(RECORD | st.integers() | st.lists(st.integers(), max_size=1), max_size=6),
    separators=st.sampled_from([None, (",", ":"), (", ", ": "), (" ,  ", ":")]),
    indent=st.sampled_from([None, 0, 2]),
    as_bundle=st.booleans(),
)
def test_separators(
    records: list[Any], separators: tuple[str, str] | None, indent: int | None, as_bundle: bool
) -> None:
    data: Any = {"type": "bundle", "objects": records} if as_bundle else records
    text = json.dumps(data, separators=separators, indent=indent)
    assert stream_bundle(text) == parse_bundle(json.loads(text))


def test_source_objects_are_compact() -> None:
    """Every path builds the object's dict as a copy of `source_blank` (a split dict on
    CPython, ~170 bytes less an object): the plain and the general path, and `typed`; and
    they still do after objects were built every other way (the constructor, a copy, a
    pickle: none of them touches the keys `source_blank`'s copies share)."""
    made = SourceObject(standard_id="b", entity_type="Url", name="n")
    for _ in range(20):
        made = pickle.loads(pickle.dumps(made.model_copy(update={"name": "m"}, deep=True)))
        SourceObject.model_validate(made.model_dump())
    plain = {"type": "indicator", "id": "indicator--00000000-0000-4000-8000-000000000001"}
    objects = [
        to_source_object(plain, {}),
        to_source_object({**plain, "extensions": {}}, {}),
        to_source_object({**plain, "type": "url", "value": "u"}, {}),
        SourceObject.typed({"standard_id": "a", "entity_type": "Url", "name": "n"}),
    ]
    for obj in objects:
        assert obj is not None
        assert list(obj.__dict__) == list(SourceObject.model_fields)
        if sys.implementation.name == "cpython":
            assert sys.getsizeof(obj.__dict__) < sys.getsizeof(dict(obj.__dict__))


def _unwrap_reference(records: list[Any]) -> list[Any]:
    """`unwrap` without its shortcuts (the `Mapping` check first, the ids looked up in
    `order` at the end)."""
    by_id: dict[str, Any] = {}
    order: dict[str, None] = {}
    anonymous: list[Any] = []
    events = False
    for record in records:
        if not isinstance(record, Mapping):
            continue
        event_type = record.get("type")
        data = record.get("data")
        if event_type in ("create", "update", "delete", "merge") and isinstance(data, Mapping):
            ident = str(data.get("id", ""))
            if event_type == "delete":
                by_id.pop(ident, None)
                continue
            obj, events = data, True
        else:
            obj = record
            ident = str(obj.get("id", ""))
        if not ident:
            anonymous.append(obj)
            continue
        if ident not in by_id:
            order[ident] = None
        elif not events and not newer_than(stamp(obj), stamp(by_id[ident])):
            continue
        by_id[ident] = obj
    return [by_id[i] for i in order if i in by_id] + anonymous


UNWRAPPED = st.fixed_dictionaries(
    {"type": st.sampled_from(["indicator", "url"])},
    optional={"id": st.sampled_from(["a", "b", "c", "", 7]), "modified": TIME},
)
EVENTS = st.builds(
    lambda kind, data: {"type": kind, "data": data},
    st.sampled_from(["create", "update", "delete", "merge", "other"]),
    UNWRAPPED,
)


A, B = {"type": "url", "id": "a"}, {"type": "url", "id": "b"}


@settings(max_examples=500, deadline=None)
@given(records=st.lists(EVENTS | EVENTS | UNWRAPPED | st.just(1), max_size=8))
@example(records=[{"type": "create", "data": A}, {"type": "delete", "data": A}])
@example(
    records=[
        {"type": "create", "data": A},
        {"type": "create", "data": B},
        {"type": "delete", "data": A},
        {"type": "create", "data": A},
    ]
)
def test_unwrap_as_before(records: list[Any]) -> None:
    got, expected = unwrap(records), _unwrap_reference(records)
    assert [id(o) for o in got] == [id(o) for o in expected]


def test_an_object_deleted_then_created_again_is_read_once() -> None:
    """A stream that creates, deletes and creates one object again holds it once (it was
    listed twice: two objects with one id), where it first appeared, with its last data."""
    again = {**A, "name": "again"}
    records = [
        {"type": "create", "data": A},
        {"type": "create", "data": B},
        {"type": "delete", "data": A},
        {"type": "create", "data": again},
    ]
    assert unwrap(records) == [again, B]
