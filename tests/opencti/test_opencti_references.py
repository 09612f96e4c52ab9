"""External references in the emulator: upsert by url, attach to indicators and observables,
detach, delete everywhere, list by source_name; unsupported filters refused, not ignored."""

from __future__ import annotations

from typing import Any

from octi_sandbox.opencti import OpenCTIConfig

from controller.sources.opencti.filters import flt, group
from controller.sources.opencti.pivot_queries import (
    ATTACH_TO_DOMAIN_OBJECT,
    ATTACH_TO_OBSERVABLE,
    DETACH_FROM_OBSERVABLE,
    REFERENCE_ADD,
    REFERENCE_DELETE,
    REFERENCES,
)

from .conftest import NOW, InProcess


def data(target: InProcess, document: str, variables: dict[str, Any]) -> Any:
    body = target.post(document, variables).json()
    assert not body.get("errors"), body
    return body["data"]


def listed(target: InProcess, *filters: dict[str, Any]) -> list[dict[str, Any]]:
    variables = {"first": 100, "filters": group("and", filters)}
    conn = data(target, REFERENCES.document, variables)["externalReferences"]
    return [e["node"] for e in conn["edges"]]


def test_references_are_upserted_attached_detached_and_deleted_everywhere() -> None:
    target = InProcess(OpenCTIConfig(start=NOW))
    indicator = target.state.create_indicator(pattern="[ipv4-addr:value = '192.0.2.1']")
    observable = target.state.create_observable(entity_type="IPv4-Addr", value="192.0.2.1")
    ref = {"source_name": "Tanium", "external_id": "7", "url": "https://t/#/intel/7"}
    first = data(target, REFERENCE_ADD.document, {"input": ref})["externalReferenceAdd"]
    again = data(target, REFERENCE_ADD.document, {"input": ref})["externalReferenceAdd"]
    assert first["id"] == again["id"] and first["standard_id"].startswith("external-reference--")
    relation = {"toId": first["id"], "relationship_type": "external-reference"}
    for operation, entity in (
        (ATTACH_TO_DOMAIN_OBJECT, indicator),
        (ATTACH_TO_OBSERVABLE, observable),
    ):
        for _ in range(2):  # attaching twice is one attachment
            data(target, operation.document, {"id": entity["standard_id"], "input": relation})
    (node,) = listed(target, flt("source_name", ["Tanium"]))
    objects = {r["node"]["standard_id"] for r in node["references"]["edges"]}
    assert objects == {indicator["standard_id"], observable["standard_id"]}
    assert listed(target, flt("source_name", ["Other"])) == []

    data(target, DETACH_FROM_OBSERVABLE.document, {"id": observable["id"], "toId": first["id"]})
    (node,) = listed(target, flt("source_name", ["Tanium"]))
    assert [r["node"]["standard_id"] for r in node["references"]["edges"]] == [
        indicator["standard_id"]
    ]
    data(target, REFERENCE_DELETE.document, {"id": first["id"]})
    assert listed(target, flt("source_name", ["Tanium"])) == []
    assert target.state.store.entities[indicator["id"]]["_refs"] == []


def test_an_unsupported_filter_is_refused_not_ignored() -> None:
    target = InProcess(OpenCTIConfig(start=NOW))
    variables = {"first": 10, "filters": group("and", [flt("description", ["x"])])}
    body = target.post(REFERENCES.document, variables).json()
    assert body["errors"] and "description" in body["errors"][0]["message"]
