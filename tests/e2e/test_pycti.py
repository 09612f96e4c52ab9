"""The official client sees it all: pycti (the version of the schema the package carries)
reads the pivot reference on an indicator and lists the sightings octi-tanium wrote."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_sightings import OPENCTI_TOKEN, T0, World, world  # noqa: F401

pycti = pytest.importorskip("pycti")


def test_pycti_reads_the_pivot_and_lists_the_sightings(world: World) -> None:  # noqa: F811
    world.alerts("evil3.example", T0, "host-a", 3)
    world.alerts("evil3.example", T0 + timedelta(minutes=2), "host-b", 2)
    assert world.sightings_json()["written"] == 2
    client = pycti.OpenCTIApiClient(
        world.url, OPENCTI_TOKEN, log_level="error", perform_health_check=False
    )
    (origin,) = world.origins[world.doc["evil3.example"]]
    read = client.indicator.read(id=origin)
    assert read is not None
    refs = [r for r in read["externalReferences"] if r["source_name"] == "Tanium"]
    doc = world.doc["evil3.example"]
    assert [
        (r["external_id"], r["url"].endswith(f"/#/threatresponse/intel/{doc}")) for r in refs
    ] == [(str(doc), True)]
    listed = client.stix_sighting_relationship.list(fromId=read["standard_id"])
    assert sorted((s["to"]["name"], s["attribute_count"]) for s in listed) == [
        ("host-a", 3),
        ("host-b", 2),
    ]
