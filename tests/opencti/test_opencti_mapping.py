"""GraphQL nodes → SourceObject, exactly as the STIX reader maps the same object."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controller.sources.opencti.errors import OpenCTIProtocolError
from controller.sources.opencti.mapping import (
    indicator_from_node,
    marking_name,
    observable_from_node,
)


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
