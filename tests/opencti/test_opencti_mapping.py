"""GraphQL nodes → SourceObject, exactly as the STIX reader maps the same object."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import FieldNode, FragmentDefinitionNode, InlineFragmentNode, parse

from controller.sources.opencti.errors import OpenCTIProtocolError
from controller.sources.opencti.mapping import (
    indicator_from_node,
    marking_name,
    observable_from_node,
)
from controller.sources.opencti.queries import INDICATOR_FIELDS, OBSERVABLE_FIELDS


def test_an_indicator_node_maps_every_field() -> None:
    obj = indicator_from_node(
        {
            "id": "c0ffee",
            "standard_id": "indicator--1",
            "entity_type": "Indicator",
            "name": "n",
            "description": None,
            "pattern": "[x]",
            "pattern_type": "STIX",
            "valid_from": "2026-01-01T00:00:00.000Z",
            "valid_until": None,
            "revoked": False,
            "x_opencti_score": 80,
            "x_opencti_detection": None,
            "x_mitre_platforms": ["windows"],
            "x_opencti_main_observable_type": "IPv4-Addr",
            "confidence": 75,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-02T00:00:00.123Z",
            "objectLabel": [{"value": "B"}, {"value": "a"}],
            "objectMarking": [
                {"definition_type": "TLP", "definition": "TLP:WHITE"},
                {"definition_type": "TLP", "definition": "TLP:AMBER"},
            ],
        }
    )
    assert obj.internal_id == "c0ffee" and obj.pattern_type == "stix"
    assert obj.description == "" and obj.detection is None and obj.valid_until is None
    assert obj.labels == ("B", "a")  # order kept, as in the STIX export
    assert obj.markings == ("TLP:AMBER", "TLP:CLEAR")
    assert obj.platforms == ("windows",) and obj.score == 80 and obj.confidence == 75
    assert obj.modified == datetime(2026, 1, 2, 0, 0, 0, 123000, tzinfo=UTC)


def test_absent_pattern_type_reads_as_stix_and_absent_score_as_none() -> None:
    obj = indicator_from_node(
        {
            "id": "x",
            "standard_id": "indicator--2",
            "entity_type": "Indicator",
            "name": "",
            "revoked": True,
        }
    )
    assert obj.pattern_type == "stix" and obj.score is None and obj.revoked is True


@pytest.mark.parametrize(
    ("node", "value", "name"),
    [
        ({"entity_type": "IPv4-Addr", "value": "192.0.2.1"}, "192.0.2.1", ""),
        (
            {
                "entity_type": "StixFile",
                "name": "a.exe",
                "hashes": [{"algorithm": "SHA-256", "hash": "ab"}],
            },
            "a.exe",
            "a.exe",
        ),
        ({"entity_type": "StixFile", "hashes": [{"algorithm": "MD5", "hash": "cd"}]}, None, ""),
        ({"entity_type": "Autonomous-System", "number": 64500}, "64500", ""),
        ({"entity_type": "Autonomous-System", "number": 64500, "name": "AS-X"}, "AS-X", "AS-X"),
        ({"entity_type": "Directory", "path": "C:\\\\tmp"}, "C:\\\\tmp", ""),
        ({"entity_type": "Windows-Registry-Key", "attribute_key": "HKLM\\\\x"}, "HKLM\\\\x", ""),
        ({"entity_type": "Software", "name": "Fedora"}, "Fedora", "Fedora"),
        ({"entity_type": "Network-Traffic"}, None, ""),
    ],
)
def test_observable_values_follow_the_stix_readers_order(
    node: dict[str, object], value: str | None, name: str
) -> None:
    obj = observable_from_node({"id": "i", "standard_id": "x--1", **node})
    assert obj.value == value and obj.name == name


def test_observable_timestamps_and_sentinels() -> None:
    obj = observable_from_node(
        {
            "id": "i",
            "standard_id": "ipv4-addr--1",
            "entity_type": "IPv4-Addr",
            "value": "192.0.2.1",
            "created_at": "1970-01-01T00:00:00.000Z",
            "updated_at": "2026-03-01T10:00:00.000Z",
            "hashes": [{"algorithm": "SHA-256", "hash": "x"}, {"algorithm": "MD5", "hash": None}],
            "x_opencti_description": "d",
            "x_opencti_score": 5,
        }
    )
    assert obj.created is None  # OpenCTI's "no date" sentinel
    assert obj.modified == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert obj.hashes == {"SHA-256": "x"} and obj.description == "d" and obj.score == 5


def test_unresolved_marking_refs_stay_verbatim() -> None:
    assert marking_name("marking-definition--abc") == "marking-definition--abc"
    assert marking_name("tlp:green") == "TLP:GREEN"


def test_a_node_without_identity_is_a_protocol_error() -> None:
    with pytest.raises(OpenCTIProtocolError):
        indicator_from_node({"name": "x"})
    odd = indicator_from_node(
        {
            "standard_id": "indicator--1",
            "entity_type": "Indicator",
            "x_mitre_platforms": "windows",
            "valid_from": 12,
            "x_opencti_score": "80",
        }
    )
    assert odd.platforms == () and odd.valid_from is None and odd.score is None


# ------------------------------------------------------------------ the selection is what is read
# The server's time per listing grows with every field of every node (most of a fetch's wall
# time): a field selected but never read is paid for 100,000 times per pass.


def _selected(fragment: str) -> set[str]:
    """The fields a fragment selects, over all its inline fragments, as dotted paths (a
    field with a selection of its own is there too: `objectLabel`, `objectLabel.value`)."""
    document = parse(fragment)
    found: set[str] = set()

    def walk(selections: Any, prefix: str) -> None:
        for selection in selections.selections:
            if isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, prefix)
            elif isinstance(selection, FieldNode):
                path = prefix + selection.name.value
                found.add(path)
                if selection.selection_set is not None:
                    walk(selection.selection_set, path + ".")

    definition = document.definitions[0]
    assert isinstance(definition, FragmentDefinitionNode)
    walk(definition.selection_set, "")
    return found


class _Reads(dict[str, Any]):
    """A node that records which fields are asked of it (`reads`, dotted paths)."""

    def __init__(self, data: dict[str, Any], reads: set[str], prefix: str = "") -> None:
        super().__init__(data)
        self.reads = reads
        self.prefix = prefix

    def _seen(self, key: str, value: Any) -> Any:
        self.reads.add(self.prefix + key)
        if isinstance(value, list):
            path = self.prefix + key + "."
            return [_Reads(v, self.reads, path) if isinstance(v, dict) else v for v in value]
        return value

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._seen(key, super().get(key, default))

    def __getitem__(self, key: str) -> Any:
        return self._seen(key, super().__getitem__(key))


def _read_by(mapper: Any, nodes: list[dict[str, Any]]) -> set[str]:
    reads: set[str] = set()
    for node in nodes:
        mapper(_Reads(node, reads))
    return reads


def test_the_indicator_listing_selects_exactly_what_the_mapping_reads() -> None:
    node = {
        "id": "c0ffee",
        "standard_id": "indicator--1",
        "name": "n",
        "description": "d",
        "pattern": "[ipv4-addr:value = '192.0.2.1']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2027-01-01T00:00:00Z",
        "revoked": False,
        "x_opencti_score": 80,
        "x_opencti_detection": True,
        "x_mitre_platforms": ["windows"],
        "x_opencti_main_observable_type": "IPv4-Addr",
        "confidence": 75,
        "created": "2026-01-01T00:00:00Z",
        "modified": "2026-01-02T00:00:00Z",
        "objectLabel": [{"value": "emotet"}],
        "objectMarking": [{"definition": "TLP:GREEN"}],
    }
    assert _read_by(indicator_from_node, [node]) == _selected(INDICATOR_FIELDS)
    assert indicator_from_node(node).entity_type == "Indicator"


def test_the_observable_listing_selects_exactly_what_the_mapping_reads() -> None:
    common = {
        "id": "c0ffee",
        "standard_id": "x--1",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-02T00:00:00Z",
        "x_opencti_score": 50,
        "x_opencti_description": "d",
        "objectLabel": [{"value": "emotet"}],
        "objectMarking": [{"definition": "TLP:GREEN"}],
    }
    nodes = [
        common | {"entity_type": "StixFile", "hashes": [{"algorithm": "MD5", "hash": "ab"}]},
        common | {"entity_type": "StixFile", "name": "a.exe"},
        common | {"entity_type": "Autonomous-System", "number": 64500},
    ]
    assert _read_by(observable_from_node, nodes) == _selected(OBSERVABLE_FIELDS)


def test_repeated_values_are_one_object_across_nodes() -> None:
    def node(i: int) -> dict[str, Any]:  # every value a fresh object, as json.loads gives them
        return json.loads(
            json.dumps(
                {
                    "standard_id": f"indicator--{i}",
                    "pattern_type": "STIX",
                    "valid_until": "2027-12-31T00:00:00.000Z",
                    "created": "2026-01-01T00:00:00.000Z",
                    "x_mitre_platforms": ["windows"],
                    "x_opencti_main_observable_type": "IPv4-Addr",
                    "objectLabel": [{"value": "emotet"}, {"value": "tanium"}],
                    "objectMarking": [{"definition": "TLP:GREEN"}],
                }
            )
        )

    a, b = indicator_from_node(node(1)), indicator_from_node(node(2))
    assert a.labels == ("emotet", "tanium") and a.markings == ("TLP:GREEN",)
    for field in ("labels", "markings", "pattern_type", "platforms", "main_observable_type"):
        assert getattr(a, field) is getattr(b, field), field
    assert a.valid_until is b.valid_until and a.created is b.created
    assert a.valid_until == datetime(2027, 12, 31, tzinfo=UTC)
