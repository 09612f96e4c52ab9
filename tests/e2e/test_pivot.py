"""The pivot over real HTTP: after apply every origin object carries one external reference to
its Tanium document; a second apply adds nothing; the reference follows a re-created document,
disappears with a deleted one, and references made by others stay as they are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti.server import serve_opencti

from controller.sources.opencti.pivot_queries import (
    ATTACH_TO_DOMAIN_OBJECT,
    REFERENCE_ADD,
)
from tests.e2e.harness import TOKEN, Sandbox, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING, indicator, managed_docs

OPENCTI_TOKEN = "opencti-e2e-token"
TR = "/plugin/products/threat-response/api/v1"


class World:
    def __init__(self, box: Sandbox, url: str, state: Any, tmp: Path) -> None:
        self.box, self.url, self.state = box, url, state
        self.env = {
            "OPENCTI_URL": url,
            "OPENCTI_TOKEN": OPENCTI_TOKEN,
            "TANIUM_CONSOLE_URL": "https://tanium.example",
        }
        self.objects = [
            indicator(1, "evil1.example"),
            indicator(2, "evil1.example"),
            indicator(3, "evil3.example"),
        ]
        bundle = tmp / "b.json"
        bundle.write_text(
            json.dumps({"type": "bundle", "id": "bundle--1", "objects": self.objects})
        )
        state.seed_file(bundle)

    def cli(self, command: str, *args: str) -> Any:
        return self.box.cli(
            [command, "--policies", str(EVERYTHING), "--source", "opencti", *args], env=self.env
        )

    def apply(self) -> None:
        result = self.cli("apply", "--auto-approve")
        assert result.code == 0, result.output

    def graphql(self, document: str, variables: dict[str, Any]) -> Any:
        reply = httpx.post(
            f"{self.url}/graphql",
            json={"query": document, "variables": variables},
            headers={"Authorization": f"Bearer {OPENCTI_TOKEN}"},
            timeout=30,
        )
        body = reply.json()
        assert not body.get("errors"), body
        return body["data"]

    def refs_of(self, n: int) -> list[dict[str, Any]]:
        """(source_name, external_id, url, description) of indicator n's references."""
        query = """query($id: String!) { indicator(id: $id) { externalReferences {
            edges { node { source_name external_id url description } } } } }"""
        data = self.graphql(query, {"id": self.objects[n - 1]["id"]})
        return [e["node"] for e in data["indicator"]["externalReferences"]["edges"]]

    def docs(self) -> dict[str, int]:
        return {d["name"]: d["id"] for d in managed_docs(self.box.state())}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,))
    with tanium_sandbox() as box, serve_opencti(config) as (url, state):
        yield World(box, url, state, tmp_path)


def ours(refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in refs if "octi-tanium" in (r["description"] or "")]


def test_the_pivot_appears_after_apply_and_a_second_apply_adds_nothing(world: World) -> None:
    # an analyst's own reference, and the official connector's, are never touched
    theirs = world.graphql(
        REFERENCE_ADD.document,
        {"input": {"source_name": "Tanium", "external_id": "999", "url": "https://x/999"}},
    )["externalReferenceAdd"]
    world.graphql(
        ATTACH_TO_DOMAIN_OBJECT.document,
        {
            "id": world.objects[0]["id"],
            "input": {"toId": theirs["id"], "relationship_type": "external-reference"},
        },
    )
    planned = world.cli("plan", "--format", "json")
    world.apply()
    docs = world.docs()
    for n, name in ((1, "evil1.example"), (2, "evil1.example"), (3, "evil3.example")):
        (ref,) = ours(world.refs_of(n))
        assert ref["source_name"] == "Tanium"
        assert ref["external_id"] == str(docs[name])
        assert ref["url"] == f"https://tanium.example/#/threatresponse/intel/{docs[name]}"
    assert {"external_id": "999", "url": "https://x/999"}.items() <= {
        k: v for r in world.refs_of(1) if r["external_id"] == "999" for k, v in r.items()
    }.items()
    assert planned.code == 0
    again = world.cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.output  # nothing left to do, pivot included

    # the document is deleted by hand in Tanium: apply re-creates it, the pivot follows
    old = docs["evil3.example"]
    httpx.delete(
        f"{world.box.url}{TR}/intels/{old}", headers={"session": TOKEN}, timeout=30
    ).raise_for_status()
    plan = world.cli("plan", "--format", "json")
    data = json.loads(plan.output[plan.output.index("{") :])
    pivots = [i for i in data["items"] if i["kind"] == "pivot"]
    assert [(i["action"], i["desired"]) for i in pivots] == [("delete", None)]
    world.apply()
    new = world.docs()["evil3.example"]
    assert new != old
    (ref,) = ours(world.refs_of(3))
    assert ref["external_id"] == str(new)

    # the indicator is revoked: its document is deleted, and so is the reference
    world.state.revoke(world.objects[2]["id"])
    world.apply()
    assert "evil3.example" not in world.docs()
    assert ours(world.refs_of(3)) == []
    assert len(ours(world.refs_of(1))) == 1
    assert any(r["external_id"] == "999" for r in world.refs_of(1))
    assert world.cli("plan", "--detailed-exitcode").code == 0
