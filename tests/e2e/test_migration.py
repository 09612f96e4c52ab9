"""Migration from OpenCTI's Tanium connector: its request sequence first (a source "OpenCTI",
quick-add documents uploaded into it, a blacklist entry), then octi-tanium with `adopt`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import TOKEN, Sandbox, tanium_sandbox
from tests.e2e.test_convergence import converge
from tests.e2e.test_switches import DEMO

TR = "/plugin/products/threat-response/api/v1"
REP = "/plugin/products/reputation/v3/reputations/custom"
SOURCE = f"bundle:{DEMO}"
MIGRATING = """\
apiVersion: octi-tanium/v1
kind: IntelPolicy
metadata: {name: everything}
spec:
  select: {}
  target: {intel: {}, blocklist: {}}
---
apiVersion: octi-tanium/v1
kind: Settings
metadata: {name: settings}
spec:
  deletionBudget: {max: 100, maxPercent: 100}
  adopt: {fromSources: [OpenCTI], blocklist: true}
"""
DESIRED_IP = "198.51.100.21"
DESIRED_MD5 = "4791ec1928a9ebd0e2a8ecfd99296da2"
UNRELATED_IP = "10.9.8.7"


def connector(box: Sandbox) -> dict[str, int]:
    """What OpenCTI's connectors send: a source, quick-add OpenIOC uploaded into it, and (the
    old connector) a blacklist entry noted "OpenCTI"."""
    headers = {"session": TOKEN}
    with httpx.Client(base_url=box.url, headers=headers, timeout=30) as http:
        source = http.post(
            f"{TR}/sources",
            json={"type": "api-client", "name": "OpenCTI", "description": "OpenCTI connector"},
        ).json()["data"]["id"]
        ids = {}
        for kind, value in (
            ("Network Indicators", DESIRED_IP),
            ("File Hashes", DESIRED_MD5),
            ("Network Indicators", UNRELATED_IP),
        ):
            xml = http.post(
                f"{TR}/intels/quick-add",
                json={"exact": True, "name": value, "type": kind, "text": value},
            ).content
            reply = http.post(
                f"{TR}/sources/{source}/intels",
                content=xml,
                headers={"content-type": "application/xml"},
            )
            reply.raise_for_status()
            ids[value] = reply.json()["data"]["id"]
        entry = {"list": "blacklist", "md5": DESIRED_MD5, "sha1": "", "sha256": ""}
        entry |= {"uploadedHash": DESIRED_MD5, "notes": "OpenCTI"}
        http.post(f"{REP}/upload", params={"append": "true"}, json=[entry]).raise_for_status()
    return ids


def values_by_doc(state: dict[str, Any]) -> dict[int, set[str]]:
    pattern = re.compile(r"<(?:[\w-]+:)?Content\b[^>]*>([^<]+)</")
    return {
        d["id"]: {v.strip().lower() for v in pattern.findall(d.get("contents") or "")}
        for d in state["intels"]
    }


def test_a_connector_user_migrates_without_double_documents(tmp_path: Path) -> None:
    policies = tmp_path / "desired"
    policies.mkdir()
    (policies / "migrate.yaml").write_text(MIGRATING, encoding="utf-8")
    with tanium_sandbox(seed="demo") as box:
        theirs = connector(box)
        plan = box.plan_json(policies, SOURCE)
        reasons = {(i["action"], i["reason"], i.get("tanium_id")) for i in plan["items"]}
        assert ("delete", "migrated", theirs[DESIRED_IP]) in reasons
        assert ("delete", "migrated", theirs[DESIRED_MD5]) in reasons
        assert not [i for i in plan["items"] if i.get("tanium_id") == theirs[UNRELATED_IP]]
        assert any(i["reason"] == "adopted" for i in plan["items"] if i["kind"] == "blocklist")

        converge(box, policies, SOURCE)

        state = box.state()
        ids = {d["id"] for d in state["intels"]}
        assert theirs[UNRELATED_IP] in ids, "an unrelated connector document was touched"
        assert not {theirs[DESIRED_IP], theirs[DESIRED_MD5]} & ids
        source_of = {d["id"]: d["sourceId"] for d in state["intels"]}
        connector_source = source_of[theirs[UNRELATED_IP]]
        held = values_by_doc(state)
        theirs_values = {
            v for i, vs in held.items() if source_of[i] == connector_source for v in vs
        }
        ours_values = {v for i, vs in held.items() if source_of[i] != connector_source for v in vs}
        assert not theirs_values & ours_values, "a value is held by two documents"
        assert {DESIRED_IP, DESIRED_MD5} <= ours_values
        entries = [e for e in state["reputation"] if e["md5"] == DESIRED_MD5]
        assert len(entries) == 1 and "octi-tanium:v1" in entries[0]["notes"]


def test_without_adopt_the_connector_entry_stays_a_conflict(tmp_path: Path) -> None:
    policies = tmp_path / "desired"
    policies.mkdir()
    (policies / "plain.yaml").write_text(MIGRATING.split("---")[0], encoding="utf-8")
    with tanium_sandbox(seed="demo") as box:
        theirs = connector(box)
        plan = box.plan_json(policies, SOURCE)
        assert not [i for i in plan["items"] if i["reason"] in ("migrated", "adopted")]
        assert not [i for i in plan["items"] if i.get("tanium_id") in theirs.values()]
        assert json.dumps(plan).count("not created by octi-tanium") >= 1
