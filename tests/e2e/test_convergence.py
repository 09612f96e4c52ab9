"""The heart of the suite: plan → apply → plan is empty, and Tanium holds exactly the desired
state — over real HTTP, through the real command line, for every corpus bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, ROOT
from tests.e2e.harness import Sandbox, tanium_sandbox

EVERYTHING = ROOT / "desired" / "everything.yaml"
BUNDLES = sorted((CORPUS / "stix" / "bundles").rglob("*.json"))


def managed_docs(state: dict[str, Any], source_name: str = "OpenCTI (octi-tanium)") -> list[Any]:
    sources = {s["id"]: s["name"] for s in state["sources"]}
    return [d for d in state["intels"] if sources.get(d["sourceId"]) == source_name]


def converge(box: Sandbox, policies: Path, source: str) -> dict[str, Any]:
    first = box.cli(
        ["plan", "--policies", str(policies), "--source", source, "--detailed-exitcode"]
    )
    assert first.code in (0, 2), first.output
    applied = box.cli(["apply", "--policies", str(policies), "--source", source, "--auto-approve"])
    assert applied.code == 0, applied.output
    again = box.cli(
        ["plan", "--policies", str(policies), "--source", source, "--detailed-exitcode"]
    )
    assert again.code == 0, again.output
    assert "No changes" in again.output
    return box.plan_json(policies, source)


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_every_corpus_bundle_converges_to_exactly_the_desired_state(bundle: Path) -> None:
    with tanium_sandbox() as box:
        plan = converge(box, EVERYTHING, f"bundle:{bundle}")
        desired_intel = {i["key"] for i in plan["items"] if i["kind"] == "intel"}
        desired_entries = {i["key"] for i in plan["items"] if i["kind"] == "blocklist"}
        state = box.state()
        docs = managed_docs(state)
        keys = [d["description"].rsplit("key=", 1)[1].split(" ")[0] for d in docs]
        assert sorted(keys) == sorted(desired_intel), "Tanium holds other documents than desired"
        assert len(keys) == len(set(keys)), "duplicate documents"
        notes = [e["notes"] for e in state["reputation"]]
        entry_keys = [n.rsplit("key=", 1)[1].split(" ")[0] for n in notes if "octi-tanium" in n]
        assert sorted(entry_keys) == sorted(desired_entries)
        assert len(entry_keys) == len(set(entry_keys))
        assert all(i["action"] == "no-op" for i in plan["items"])


def test_stream_events_with_revoked_indicators_sync_nothing() -> None:
    bundle = CORPUS / "stix/bundles/opencti-platform/stream-event-stix2-indicators.json"
    with tanium_sandbox() as box:
        plan = box.plan_json(EVERYTHING, f"bundle:{bundle}")
        assert [i for i in plan["items"] if i["action"] != "no-op"] == []
        assert sorted(s["reason"] for s in plan["skipped"]) == ["revoked", "revoked"]


def write_bundle(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    return path


def indicator(n: int, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--0000000{n}-0000-4000-8000-000000000000",
        "created": "2026-01-01T00:00:00Z",
        "modified": "2026-01-01T00:00:00Z",
        "name": value,
        "pattern": f"[domain-name:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        **extra,
    }


def test_label_removal_and_revocation_change_exactly_one_document(tmp_path: Path) -> None:
    objects = [
        indicator(1, "a.example", labels=["emotet", "tanium"]),
        indicator(2, "b.example", labels=["emotet"]),
        indicator(3, "c.example", labels=["qakbot"]),
    ]
    with tanium_sandbox() as box:
        converge(box, EVERYTHING, f"bundle:{write_bundle(tmp_path / 'v1.json', objects)}")
        before = {d["id"]: d for d in managed_docs(box.state())}

        objects[0]["labels"] = ["emotet"]
        source = f"bundle:{write_bundle(tmp_path / 'v2.json', objects)}"
        plan = box.plan_json(EVERYTHING, source)
        changed = [
            (i["action"], i["name"], i["reason"]) for i in plan["items"] if i["action"] != "no-op"
        ]
        assert changed == [("update", "a.example", "labels")]
        converge(box, EVERYTHING, source)
        after = {d["id"]: d for d in managed_docs(box.state())}
        assert after.keys() == before.keys()
        differs = [i for i in after if after[i]["labelIds"] != before[i]["labelIds"]]
        assert len(differs) == 1 and after[differs[0]]["name"] == "a.example"
        assert all(after[i]["revisionId"] == before[i]["revisionId"] for i in after)

        objects[1]["revoked"] = True
        source = f"bundle:{write_bundle(tmp_path / 'v3.json', objects)}"
        plan = box.plan_json(EVERYTHING, source)
        changed = [
            (i["action"], i["kind"], i["name"], i["reason"])
            for i in plan["items"]
            if i["action"] != "no-op"
        ]
        assert ("delete", "intel", "b.example", "revoked") in changed
        assert [c for c in changed if c[1] in ("intel", "blocklist")] == [
            ("delete", "intel", "b.example", "revoked")
        ]
        converge(box, EVERYTHING, source)
        final = {d["id"]: d for d in managed_docs(box.state())}
        assert set(before) - set(final) == {i for i in before if before[i]["name"] == "b.example"}
