"""The knowledge mutations a user's tools send (pycti's shapes), over real HTTP: create an
indicator and an observable, add and remove a label, revoke, patch the score, delete — each
change is visible to the next read and is an event of the live stream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import DEFAULT_TOKEN
from octi_sandbox.opencti.server import serve_opencti
from octi_sandbox.opencti.state import OpenCTIState

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


@pytest.fixture
def emulator() -> Iterator[tuple[str, OpenCTIState]]:
    with serve_opencti() as served:
        yield served


def gql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    reply = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=AUTH, timeout=30
    )
    reply.raise_for_status()
    body = reply.json()
    assert not body.get("errors"), body["errors"]
    return dict(body["data"])


INDICATOR_ADD = """mutation IndicatorAdd($input: IndicatorAddInput!) {
  indicatorAdd(input: $input) { id standard_id entity_type revoked x_opencti_score
    objectLabel { id value } } }"""
FIELD_PATCH = """mutation StixDomainObjectEdit($id: ID!, $input: [EditInput]!) {
  stixDomainObjectEdit(id: $id) { fieldPatch(input: $input) { id } } }"""
LABEL_ADD = """mutation LabelAdd($input: LabelAddInput!) { labelAdd(input: $input) { id value } }"""
RELATION_ADD = """mutation StixDomainObjectEdit($id: ID!, $input: StixRefRelationshipAddInput!) {
  stixDomainObjectEdit(id: $id) { relationAdd(input: $input) { id } } }"""
RELATION_DELETE = """mutation StixDomainObjectEdit($id: ID!, $toId: StixRef!, $type: String!) {
  stixDomainObjectEdit(id: $id) {
    relationDelete(toId: $toId, relationship_type: $type) { id } } }"""
DELETE = """mutation StixDomainObjectEdit($id: ID!) { stixDomainObjectEdit(id: $id) { delete } }"""
OBSERVABLE_ADD = """mutation ObservableAdd($type: String!, $IPv4Addr: IPv4AddrAddInput,
  $StixFile: StixFileAddInput, $x_opencti_score: Int) {
  stixCyberObservableAdd(type: $type, IPv4Addr: $IPv4Addr, StixFile: $StixFile,
    x_opencti_score: $x_opencti_score) { id standard_id entity_type } }"""


def test_an_indicator_lives_through_the_mutations_pycti_sends(
    emulator: tuple[str, OpenCTIState],
) -> None:
    url, state = emulator
    label = gql(url, LABEL_ADD, input={"value": "emotet"})["labelAdd"]
    assert gql(url, LABEL_ADD, input={"value": "Emotet"})["labelAdd"]["id"] == label["id"]
    created = gql(
        url,
        INDICATOR_ADD,
        input={
            "name": "evil ip",
            "pattern": "[ipv4-addr:value = '198.51.100.9']",
            "pattern_type": "stix",
            "x_opencti_main_observable_type": "IPv4-Addr",
            "x_opencti_detection": True,
            "x_opencti_score": 80,
            "objectLabel": [label["id"]],
        },
    )["indicatorAdd"]
    assert created["entity_type"] == "Indicator" and created["x_opencti_score"] == 80
    assert [x["value"] for x in created["objectLabel"]] == ["emotet"]
    ident = created["id"]
    gql(url, FIELD_PATCH, id=ident, input=[{"key": "x_opencti_score", "value": ["35"]}])
    gql(url, RELATION_ADD, id=ident, input={"toId": "qakbot", "relationship_type": "object-label"})
    gql(url, RELATION_DELETE, id=ident, toId=label["id"], type="object-label")
    gql(url, FIELD_PATCH, id=ident, input=[{"key": "revoked", "value": ["true"]}])
    record = state.store.resolve(ident)
    assert record is not None
    assert record["x_opencti_score"] == 35 and record["revoked"] is True
    assert [x["value"] for x in record["objectLabel"]] == ["qakbot"]
    assert gql(url, DELETE, id=created["standard_id"])["stixDomainObjectEdit"]["delete"] == ident
    assert state.store.resolve(ident) is None
    topics = [e.topic for e in state.events.events]
    assert topics == ["create", "update", "update", "update", "update", "delete"]


def test_observables_are_created_by_value_or_hashes(emulator: tuple[str, OpenCTIState]) -> None:
    url, state = emulator
    ip = gql(url, OBSERVABLE_ADD, type="IPv4-Addr", IPv4Addr={"value": "203.0.113.5"})
    file = gql(
        url,
        OBSERVABLE_ADD,
        type="StixFile",
        StixFile={"hashes": [{"algorithm": "SHA-256", "hash": "a" * 64}]},
        x_opencti_score=70,
    )
    assert ip["stixCyberObservableAdd"]["entity_type"] == "IPv4-Addr"
    record = state.store.resolve(file["stixCyberObservableAdd"]["id"])
    assert record is not None and record["x_opencti_score"] == 70
    assert record["_hashes"] == {"SHA-256": "a" * 64}


def test_editing_an_unknown_id_is_a_missing_reference(emulator: tuple[str, OpenCTIState]) -> None:
    url, _ = emulator
    reply = httpx.post(
        f"{url}/graphql",
        json={"query": DELETE, "variables": {"id": "indicator--nope"}},
        headers=AUTH,
        timeout=30,
    ).json()
    assert reply["errors"][0]["name"] == "MISSING_REFERENCE_ERROR"
