"""A bundle read object by object (`stream_bundle`, what `read_bundle` does) gives exactly what
decoding the whole file and mapping it gives (`parse_bundle`): the same objects in the same
order, the same problems, whatever the records — plain STIX with duplicates (the latest
`modified` wins), OpenCTI stream events (updates, deletes, re-creates), markings defined
after the objects that use them, objects without ids or with invalid ones. Any other shape,
and invalid JSON, takes the whole-document path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.sources.bundle import BundleError, _NotStreamable, parse_bundle, read_bundle
from controller.sources.bundle import stream_bundle as streamed

IDS = [f"indicator--0000000{i}-0000-4000-8000-000000000000" for i in range(4)]
IDS += ["ipv4-addr--00000001-0000-4000-8000-000000000000", "indicator--bad", ""]
MARKS = ["marking-definition--00000001-0000-4000-8000-000000000000", "marking-definition--x"]
STAMPS = st.sampled_from(
    [None, "2026-01-01T00:00:00Z", "2026-01-02T00:00:00.000Z", "2026-01-02T02:00:00+02:00", "x"]
)

STIX = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["indicator", "ipv4-addr", "note", "url"]),
        "id": st.sampled_from(IDS),
    },
    optional={
        "modified": STAMPS,
        "created": STAMPS,
        "pattern": st.sampled_from(["[ipv4-addr:value = '10.0.0.1']", "[x"]),
        "value": st.sampled_from(["10.0.0.1", "h.example"]),
        "labels": st.lists(st.sampled_from(["a", "B", "é"]), max_size=2),
        "object_marking_refs": st.lists(st.sampled_from(MARKS), max_size=2),
        "x_opencti_score": st.integers(0, 100) | st.just("7"),
        "name": st.text(max_size=4),
    },
)
MARKING = st.builds(
    lambda ident, name: {"type": "marking-definition", "id": ident, "name": name},
    st.sampled_from(MARKS),
    st.sampled_from(["TLP:AMBER", "PAP:RED", "tlp:clear"]),
)
EVENT = st.builds(
    lambda kind, data: {"type": kind, "data": data},
    st.sampled_from(["create", "update", "delete", "merge"]),
    STIX | MARKING,
)
RECORDS = st.lists(STIX | MARKING | EVENT | st.sampled_from([1, "x", None, []]), max_size=12)


def _same(text: str) -> None:
    expected = parse_bundle(json.loads(text))
    assert streamed(text) == expected


@settings(max_examples=400, deadline=None)
@given(records=RECORDS, as_bundle=st.booleans(), indent=st.sampled_from([None, 1]))
def test_streamed_equals_whole(records: list[Any], as_bundle: bool, indent: int | None) -> None:
    data: Any = {"type": "bundle", "id": "bundle--1", "objects": records} if as_bundle else records
    _same(json.dumps(data, indent=indent))


def test_streamed_in_file_order_with_markings_defined_last() -> None:
    records = [
        {"type": "indicator", "id": IDS[0], "pattern": "[x", "object_marking_refs": MARKS[1:]},
        {"type": "ipv4-addr", "id": IDS[4], "value": "10.0.0.1"},
        {"type": "marking-definition", "id": MARKS[1], "name": "PAP:RED"},
    ]
    text = json.dumps({"objects": records, "spec_version": "2.1"})
    objects, problems = streamed(text)
    assert [o.standard_id for o in objects] == [IDS[0], IDS[4]]
    assert objects[0].markings == ("PAP:RED",) and problems == []
    _same(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "indicator"}',  # one object
        '{"objects": null}',
        '{"objects": [], "objects": [{"type": "x"}]}',  # `json.loads` keeps the last
        "\ufeff[]",
        "[1,]",
        '{"objects": [] ,}',
        "[] x",
        "{}",
        "3",
    ],
)
def test_other_shapes_are_not_streamed(text: str) -> None:
    with pytest.raises((_NotStreamable, ValueError)):
        streamed(text)


def test_read_bundle_falls_back_for_other_shapes_and_words_errors(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    now = datetime.now(UTC)
    one = {"type": "ipv4-addr", "id": IDS[4], "value": "10.0.0.1"}
    path.write_text(json.dumps(one), encoding="utf-8")
    assert [o.value for o in read_bundle(path, now=now).objects] == ["10.0.0.1"]
    path.write_text('{"objects": [], "objects": [' + json.dumps(one) + "]}", encoding="utf-8")
    assert len(read_bundle(path, now=now).objects) == 1
    path.write_text(json.dumps({"objects": [one]}), encoding="utf-16")
    assert len(read_bundle(path, now=now).objects) == 1
    path.write_text('{"objects": [\n  {"type": "x",}\n]}', encoding="utf-8")
    with pytest.raises(BundleError, match=r"b\.json:2:16: invalid JSON"):
        read_bundle(path, now=now)
    path.write_text('"just a string"', encoding="utf-8")
    with pytest.raises(BundleError, match="not a STIX bundle"):
        read_bundle(path, now=now)
    path.write_bytes(b'["\xff"]')
    with pytest.raises(BundleError, match="invalid JSON"):
        read_bundle(path, now=now)
