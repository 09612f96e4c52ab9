from pathlib import Path

from controller.core.diagnostics import Position
from controller.core.exclusions import ExclusionIndex
from controller.core.labels import merge_labels
from controller.core.model import SourceObject
from controller.policy.loader import Located
from controller.policy.models import Exclusion


def test_label_sets_are_unique_case_insensitively_and_sorted() -> None:
    assert merge_labels(["emotet", "Emotet", " tanium ", "", "APT28"]) == (
        "APT28",
        "Emotet",
        "tanium",
    )


def exclusion(**spec: object) -> Located:
    doc = Exclusion.model_validate(
        {
            "apiVersion": "octi-tanium/v1",
            "kind": "Exclusion",
            "metadata": {"name": "internal"},
            "spec": {"reason": "ours", **spec},
        }
    )
    return Located(doc, Position(str(Path("x.yaml")), 1, 1))


def test_cidr_exclusion_matches_addresses_inside_patterns() -> None:
    index = ExclusionIndex.build([exclusion(values=["10.0.0.0/8", "Corp.Example.com."])])
    ind = SourceObject(
        standard_id="indicator--1",
        entity_type="Indicator",
        pattern_type="stix",
        pattern="[ipv4-addr:value = '10.1.2.3' OR ipv4-addr:value = '8.8.8.8']",
    )
    assert index.match_object(ind) == "excluded: internal (ours)"
    dom = SourceObject(
        standard_id="domain-name--1", entity_type="Domain-Name", value="corp.example.com"
    )
    assert index.match_object(dom) == "excluded: internal (ours)"
    other = SourceObject(standard_id="ipv4-addr--2", entity_type="IPv4-Addr", value="192.0.2.1")
    assert index.match_object(other) is None


def test_hash_id_and_label_exclusions() -> None:
    index = ExclusionIndex.build(
        [
            exclusion(
                hashes=["AA" * 16],
                ids=["indicator--9f2c1f4e-8a5e-4d35-9c6a-0d6f3c1b2a10"],
                labels=["Benign"],
            )
        ]
    )
    assert index.match_hashes(["aa" * 16]) == "internal (ours)"
    assert index.match_object(
        SourceObject(
            standard_id="indicator--9f2c1f4e-8a5e-4d35-9c6a-0d6f3c1b2a10", entity_type="Indicator"
        )
    )
    assert index.match_object(
        SourceObject(standard_id="x--1", entity_type="Url", labels=("benign",))
    )


def test_a_duplicate_id_with_a_zoneless_timestamp_keeps_the_latest_version() -> None:
    from controller.sources.bundle import parse_bundle

    base = {
        "type": "indicator",
        "id": "indicator--00000000-0000-4000-8000-000000000001",
        "pattern": "[domain-name:value = 'x.example']",
        "pattern_type": "stix",
    }
    newer = base | {"modified": "2026-02-01T00:00:00", "revoked": True}
    older = base | {"modified": "2026-01-01T00:00:00Z"}
    objects, problems = parse_bundle([newer, older])
    assert problems == [] and [o.revoked for o in objects] == [True]
