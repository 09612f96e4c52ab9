"""Objects outside the managed source, and objects in it without a valid marker, are never
modified — reported as unowned, never updated or deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import CORPUS
from tests.e2e.harness import TOKEN, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING, converge

TR = "/plugin/products/threat-response/api/v1"
SOURCE = "OpenCTI (octi-tanium)"
IOC = """<?xml version="1.0" encoding="UTF-8"?>
<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="{id}">
  <short_description>{name}</short_description>
  <description>{description}</description>
  <definition><Indicator id="i1" operator="OR">
    <IndicatorItem id="i2" condition="is">
      <Context document="Network" search="Network/DNS" type="mir"/>
      <Content type="string">hand-made.example</Content>
    </IndicatorItem>
  </Indicator></definition>
</ioc>"""


def post_ioc(url: str, source_id: int, ident: str, name: str, description: str) -> int:
    reply = httpx.post(
        f"{url}{TR}/sources/{source_id}/intels",
        content=IOC.format(id=ident, name=name, description=description).encode(),
        headers={"session": TOKEN, "content-type": "application/xml", "type": "openioc"},
    )
    reply.raise_for_status()
    ident_out: int = reply.json()["data"]["id"]
    return ident_out


def seed_unowned(url: str) -> tuple[int, int, int]:
    """The managed source, created by hand, with a document an analyst added (no marker) and
    one whose marker was copied (forged): the source's id and the two documents' ids."""
    created = httpx.post(
        f"{url}{TR}/sources",
        headers={"session": TOKEN},
        json={"type": "api-client", "name": SOURCE, "description": "x"},
    )
    created.raise_for_status()
    ours: int = created.json()["data"]["id"]
    unmarked = post_ioc(url, ours, "hand-made-1", "hand made", "added by an analyst")
    forged = post_ioc(
        url,
        ours,
        "not-the-key",
        "forged",
        "copied [octi-tanium:v1 key=indicator--00000000-0000-4000-8000-000000000000 "
        "digest=0123456789abcdef]",
    )
    return ours, unmarked, forged


def snapshot(state: dict[str, Any], ids: set[int]) -> dict[int, tuple[Any, ...]]:
    return {
        d["id"]: (d["revisionId"], d["md5"], tuple(d["labelIds"]), d["name"], d["description"])
        for d in state["intels"]
        if d["id"] in ids
    }


def test_foreign_and_unmarked_objects_are_never_modified() -> None:
    bundle = CORPUS / "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json"
    with tanium_sandbox(seed="demo") as box:
        ours, unmarked, forged = seed_unowned(box.url)
        before_state = box.state()
        foreign = {d["id"] for d in before_state["intels"] if d["sourceId"] != ours}
        assert foreign, "the demo seed holds documents of other sources"
        watched = foreign | {unmarked, forged}
        before = snapshot(before_state, watched)
        reputation_before = before_state["reputation"]

        plan = converge(box, EVERYTHING, f"bundle:{bundle}")
        assert plan["unowned"] >= 2

        after_state = box.state()
        assert snapshot(after_state, watched) == before
        kept = {e["id"]: e for e in after_state["reputation"]}
        for entry in reputation_before:
            assert kept.get(entry["id"]) == entry


def test_plan_against_an_empty_bundle_refuses_to_delete_everything(tmp_path: Path) -> None:
    bundle = CORPUS / "stix/bundles/oasis-cti-documentation/indicator-for-malicious-url.json"
    empty = tmp_path / "empty.json"
    empty.write_text('{"type": "bundle", "id": "bundle--0", "objects": []}')
    with tanium_sandbox() as box:
        converge(box, EVERYTHING, f"bundle:{bundle}")
        result = box.cli(
            [
                "plan",
                "--policies",
                str(EVERYTHING),
                "--source",
                f"bundle:{empty}",
                "--detailed-exitcode",
            ]
        )
        assert result.code == 3, result.output
        assert "empty-desired" in result.output
        applied = box.cli(
            [
                "apply",
                "--policies",
                str(EVERYTHING),
                "--source",
                f"bundle:{empty}",
                "--auto-approve",
            ]
        )
        assert applied.code == 3
        assert len([d for d in box.state()["intels"]]) == 1


def test_a_document_whose_marker_was_removed_by_hand_is_left_alone(tmp_path: Path) -> None:
    import json
    import re

    from tests.e2e.test_convergence import indicator

    bundle = tmp_path / "b.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": "bundle--1", "objects": [indicator(1, "a.example")]})
    )
    source = f"bundle:{bundle}"
    with tanium_sandbox(post_existing_intrinsic_id="duplicate") as box:
        converge(box, EVERYTHING, source)
        (doc,) = box.state()["intels"]
        full = httpx.get(f"{box.url}{TR}/intels/{doc['id']}", headers={"session": TOKEN})
        xml = full.json()["data"]["contents"]
        edited = re.sub(
            r"<description>.*</description>", "<description>edited by an analyst</description>", xml
        )
        httpx.put(
            f"{box.url}{TR}/intels/{doc['id']}",
            content=edited.encode(),
            headers={"session": TOKEN, "content-type": "application/xml", "type": "openioc"},
        ).raise_for_status()
        before = snapshot(box.state(), {doc["id"]})
        plan = box.plan_json(EVERYTHING, source)
        assert [i for i in plan["items"] if i["kind"] == "intel"] == []
        assert [s["reason"] for s in plan["skipped"]] == ["conflict"]
        applied = box.cli(
            ["apply", "--policies", str(EVERYTHING), "--source", source, "--auto-approve"]
        )
        assert applied.code == 0, applied.output
        assert len(box.state()["intels"]) == 1
        assert snapshot(box.state(), {doc["id"]}) == before
