"""Write-back mutations in the emulator: sightings (OpenCTI's upsert) and identities."""

from __future__ import annotations

from typing import Any

import pytest
from octi_sandbox.opencti import OpenCTIConfig

from controller.sources.opencti.queries import IDENTITY_ADD, SIGHTING_ADD, SIGHTINGS, SYSTEM_ADD

from .conftest import NOW, InProcess


@pytest.fixture
def world() -> tuple[InProcess, dict[str, Any], dict[str, Any]]:
    target = InProcess(OpenCTIConfig(start=NOW))
    indicator = target.state.create_indicator(pattern="[ipv4-addr:value = '192.0.2.1']")
    system = target.post(SYSTEM_ADD.document, {"input": {"name": "Tanium"}}).json()
    return target, indicator, system["data"]["systemAdd"]


def sight(
    target: InProcess, indicator: dict[str, Any], system: dict[str, Any], **extra: Any
) -> Any:
    variables = {
        "input": {
            "fromId": indicator["standard_id"],
            "toId": system["id"],
            "attribute_count": 1,
            **extra,
        }
    }
    body = target.post(SIGHTING_ADD.document, variables).json()
    return body


def test_system_add_upserts_by_lower_cased_name(world: Any) -> None:
    target, _, system = world
    again = target.post(SYSTEM_ADD.document, {"input": {"name": "TANIUM"}}).json()
    assert again["data"]["systemAdd"]["id"] == system["id"]
    assert system["identity_class"] == "system"
    other = target.post(
        IDENTITY_ADD.document, {"input": {"type": "Organization", "name": "Tanium"}}
    )
    assert other.json()["data"]["identityAdd"]["entity_type"] == "Organization"


def test_a_repeated_sighting_within_30_days_is_the_same_and_grows_only_when_dates_widen(
    world: Any,
) -> None:
    target, indicator, system = world
    first = sight(
        target,
        indicator,
        system,
        first_seen="2026-11-01T00:00:00Z",
        last_seen="2026-11-02T00:00:00Z",
    )["data"]["stixSightingRelationshipAdd"]
    same = sight(
        target,
        indicator,
        system,
        first_seen="2026-11-01T00:00:00Z",
        last_seen="2026-11-02T00:00:00Z",
    )["data"]["stixSightingRelationshipAdd"]
    assert same["id"] == first["id"] and same["attribute_count"] == 1
    wider = sight(
        target,
        indicator,
        system,
        first_seen="2026-11-05T00:00:00Z",
        last_seen="2026-11-20T00:00:00Z",
    )["data"]["stixSightingRelationshipAdd"]
    assert wider["id"] == first["id"] and wider["attribute_count"] == 2
    assert wider["last_seen"] == "2026-11-20T00:00:00.000Z"
    far = sight(
        target,
        indicator,
        system,
        first_seen="2027-06-01T00:00:00Z",
        last_seen="2027-06-02T00:00:00Z",
    )["data"]["stixSightingRelationshipAdd"]
    assert far["id"] != first["id"]
    listed = target.post(SIGHTINGS.document, {"first": 10, "fromId": indicator["id"]}).json()
    assert listed["data"]["stixSightingRelationships"]["pageInfo"]["globalCount"] == 2


def test_a_sighting_bumps_refreshed_at_not_updated_at(world: Any) -> None:
    target, indicator, system = world
    updated = indicator["updated_at"]
    from datetime import timedelta

    target.state.advance(timedelta(hours=1), expire=False)
    sight(target, indicator, system)
    assert indicator["updated_at"] == updated
    assert indicator["refreshed_at"] == target.state.clock.now()


def test_sighting_errors(world: Any) -> None:
    target, indicator, system = world
    body = sight(target, {"standard_id": "indicator--00000000-0000-4000-8000-000000000000"}, system)
    assert body["errors"][0]["name"] == "MISSING_REFERENCE_ERROR"
    body = sight(
        target,
        indicator,
        system,
        first_seen="2026-11-02T00:00:00Z",
        last_seen="2026-11-01T00:00:00Z",
    )
    assert body["errors"][0]["name"] == "FUNCTIONAL_ERROR"
    missing_count = target.post(SIGHTING_ADD.document, {"input": {"fromId": "a", "toId": "b"}})
    assert missing_count.json()["errors"][0]["name"] == "BAD_USER_INPUT"


def test_lock_errors_can_be_injected_on_mutations(world: Any) -> None:
    from octi_sandbox.opencti.faults import FaultRule

    target, indicator, system = world
    target.state.faults.add(FaultRule(kind="lock_error", on="mutation", times=1))
    body = sight(target, indicator, system)
    assert body["errors"][0]["name"] == "LOCK_ERROR"
    assert body["data"] == {"stixSightingRelationshipAdd": None}
    assert "errors" not in sight(target, indicator, system)
