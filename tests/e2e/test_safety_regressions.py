"""Regressions found by review, each reproduced against the emulator before the fix:
a lost deploy is retried, a tampered plan cannot touch foreign objects, a failed replacement
keeps the old document, the blocklist never takes over an analyst's entry, converges when a
file becomes known by more hashes, and stays per installation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import TOKEN, Sandbox, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING, indicator

TR = "/plugin/products/threat-response/api/v1"
REP = "/plugin/products/reputation/v3/reputations/custom"
MD5 = "44d88612fea8a8f36de82e1278abb02f"
SHA = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
YARA = 'rule {name} {{ strings: $a = "{name}" condition: $a }}'


def bundle(tmp: Path, name: str, objects: list[dict[str, Any]]) -> str:
    path = tmp / f"{name}.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    return f"bundle:{path}"


def file_obs(n: int, hashes: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "file",
        "spec_version": "2.1",
        "id": f"file--{n:08d}-0000-4000-8000-000000000000",
        "hashes": hashes,
    }


def yara(n: int, name: str) -> dict[str, Any]:
    return indicator(n, name) | {"pattern": YARA.format(name=name), "pattern_type": "yara"}


def apply(box: Sandbox, source: str, policies: Path = EVERYTHING) -> int:
    return box.cli(
        ["apply", "--policies", str(policies), "--source", source, "--auto-approve"]
    ).code


def plan_code(box: Sandbox, source: str, policies: Path = EVERYTHING) -> int:
    return box.cli(
        ["plan", "--policies", str(policies), "--source", source, "--detailed-exitcode"]
    ).code


def test_a_deploy_that_failed_is_retried_by_the_next_pass(tmp_path: Path) -> None:
    source = bundle(tmp_path, "a", [indicator(1, "a.example")])
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "all.yaml").write_text(EVERYTHING.read_text())
    (policies / "settings.yaml").write_text(
        "apiVersion: octi-tanium/v1\nkind: Settings\nmetadata: {name: s}\n"
        "spec: {deploy: {retryAfter: 0s}}\n"
    )
    with tanium_sandbox() as box:
        box.post(
            "/__sandbox/faults",
            {
                "kind": "error",
                "status": 500,
                "route": "*/intel/deploy",
                "method": "POST",
                "times": 50,
            },
        )
        assert apply(box, source, policies) == 1
        httpx.delete(f"{box.url}/__sandbox/faults").raise_for_status()
        with_default_grace = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", source, "--detailed-exitcode"]
        )
        assert with_default_grace.code == 0  # within deploy.retryAfter: maybe still running
        result = box.cli(
            ["plan", "--policies", str(policies), "--source", source, "--detailed-exitcode"]
        )
        assert result.code == 2 and "undeployed" in result.output
        assert apply(box, source, policies) == 0
        assert box.state()["counters"]["deploys"] == 1
        assert plan_code(box, source, policies) == 0


def test_a_tampered_plan_cannot_delete_a_foreign_document(tmp_path: Path) -> None:
    source = bundle(tmp_path, "a", [indicator(1, "a.example")])
    with tanium_sandbox(seed="demo") as box:
        foreign = next(d["id"] for d in box.state()["intels"])
        assert apply(box, source) == 0
        out = tmp_path / "plan.json"
        box.cli(["plan", "--policies", str(EVERYTHING), "--source", source, "--out", str(out)])
        plan = json.loads(out.read_text())
        plan["items"].append(
            {
                "action": "delete",
                "kind": "intel",
                "key": "indicator--x",
                "reason": "orphan",
                "name": "x",
                "tanium_id": foreign,
            }
        )
        out.write_text(json.dumps(plan))
        result = box.cli(["apply", str(out), "--policies", str(EVERYTHING)])
        assert result.code == 1 and "refusing to touch it" in result.output
        assert foreign in {d["id"] for d in box.state()["intels"]}
        plan["inputs"]["inventory_fingerprint"] = ""
        out.write_text(json.dumps(plan))
        assert box.cli(["apply", str(out)]).code == 1
        assert foreign in {d["id"] for d in box.state()["intels"]}


def test_a_failed_replacement_keeps_the_old_document(tmp_path: Path) -> None:
    keep = indicator(9, "keep.example")
    with tanium_sandbox() as box:
        assert apply(box, bundle(tmp_path, "v1", [keep, yara(1, "evil_v1")])) == 0
        box.post(
            "/__sandbox/faults",
            {
                "kind": "error",
                "status": 500,
                "route": "*/sources/*/intels",
                "method": "POST",
                "times": 50,
            },
        )
        assert apply(box, bundle(tmp_path, "v2", [keep, yara(2, "evil_v2")])) == 1
        assert {d["name"] for d in box.state()["intels"]} == {"keep.example", "evil_v1"}
        httpx.delete(f"{box.url}/__sandbox/faults").raise_for_status()
        v2 = bundle(tmp_path, "v2", [keep, yara(2, "evil_v2")])
        assert apply(box, v2) == 0
        assert {d["name"] for d in box.state()["intels"]} == {"keep.example", "evil_v2"}
        assert plan_code(box, v2) == 0


def test_an_analysts_reputation_entry_is_never_taken_over(tmp_path: Path) -> None:
    with tanium_sandbox() as box:
        httpx.post(
            f"{box.url}{REP}/upload",
            params={"append": "true"},
            headers={"session": TOKEN},
            json=[
                {
                    "list": "whitelist",
                    "md5": "",
                    "sha1": "",
                    "sha256": SHA,
                    "uploadedHash": SHA,
                    "notes": "known good (SOC-1234)",
                }
            ],
        ).raise_for_status()
        before = box.state()["reputation"]
        source = bundle(tmp_path, "a", [file_obs(1, {"SHA-256": SHA})])
        result = box.cli(["plan", "--policies", str(EVERYTHING), "--source", source])
        assert "conflict" in result.output
        assert apply(box, source) == 0
        assert box.state()["reputation"] == before
        assert apply(box, bundle(tmp_path, "b", [])) in (0, 3)
        assert box.state()["reputation"] == before


def test_a_file_known_by_more_hashes_converges_to_one_entry(tmp_path: Path) -> None:
    md5_only = indicator(1, "x") | {"pattern": f"[file:hashes.MD5 = '{MD5}']"}
    with tanium_sandbox() as box:
        assert apply(box, bundle(tmp_path, "v1", [md5_only])) == 0
        (entry,) = box.state()["reputation"]
        v2 = bundle(tmp_path, "v2", [md5_only, file_obs(2, {"MD5": MD5, "SHA-256": SHA})])
        assert apply(box, v2) == 0
        (after,) = box.state()["reputation"]
        assert (after["md5"], after["sha256"]) == (MD5, SHA)
        assert entry["md5"] == MD5
        assert plan_code(box, v2) == 0
        v3 = bundle(
            tmp_path,
            "v3",
            [
                file_obs(2, {"MD5": MD5}),
                indicator(3, "y") | {"pattern": f"[file:hashes.'SHA-256' = '{SHA}']"},
            ],
        )
        assert apply(box, v3) == 0
        assert plan_code(box, v3) == 0
        held = {(e["md5"] or "", e["sha256"] or "") for e in box.state()["reputation"]}
        assert held == {("", SHA), (MD5, "")}


def test_two_installations_keep_their_own_blocklist_entries(tmp_path: Path) -> None:
    eu, us = tmp_path / "eu", tmp_path / "us"
    for folder, name in ((eu, "OpenCTI EU"), (us, "OpenCTI US")):
        folder.mkdir()
        (folder / "p.yaml").write_text(EVERYTHING.read_text())
        (folder / "s.yaml").write_text(
            "apiVersion: octi-tanium/v1\nkind: Settings\nmetadata: {name: s}\n"
            f"spec: {{source: {name}}}\n"
        )
    with tanium_sandbox() as box:
        assert apply(box, bundle(tmp_path, "eu", [file_obs(1, {"SHA-256": "a" * 64})]), eu) == 0
        assert apply(box, bundle(tmp_path, "us", [file_obs(2, {"SHA-256": "b" * 64})]), us) == 0
        assert len(box.state()["reputation"]) == 2
        assert plan_code(box, bundle(tmp_path, "eu", [file_obs(1, {"SHA-256": "a" * 64})]), eu) == 0


def test_blocklist_converges_when_reputation_appends_instead_of_merging(tmp_path: Path) -> None:
    v1 = [file_obs(1, {"MD5": MD5}) | {"labels": ["a"]}]
    v2 = [file_obs(1, {"MD5": MD5}) | {"labels": ["b"]}, file_obs(2, {"SHA-256": SHA})]
    with tanium_sandbox(reputation_merge="append") as box:
        for name, objects in (("v1", v1), ("v2", v2)):
            source = bundle(tmp_path, name, objects)
            assert apply(box, source) == 0
            assert plan_code(box, source) == 0
        held = sorted((e["md5"] or "", e["sha256"] or "") for e in box.state()["reputation"])
        assert held == [("", SHA), (MD5, "")]


def test_a_missing_permission_fails_only_its_items_and_intel_still_deploys(
    tmp_path: Path,
) -> None:
    objects = [indicator(1, "a.example"), file_obs(2, {"SHA-256": SHA})]
    source = bundle(tmp_path, "a", objects)
    no_reputation = {TOKEN: {"intel:write", "intel:deploy", "scan", "alerts:read"}}
    with tanium_sandbox(tokens=no_reputation) as box:
        result = box.cli(
            ["apply", "--policies", str(EVERYTHING), "--source", source, "--auto-approve"]
        )
        assert result.code == 1
        assert "403" in result.output and "blocklist" in result.output
        state = box.state()
        assert [d["name"] for d in state["intels"]] == ["a.example"]
        assert state["counters"]["deploys"] == 1


@pytest.mark.parametrize("merge", ["merge", "append"])
def test_a_hash_added_to_our_entry_never_takes_over_an_analysts_entry(
    tmp_path: Path, merge: str
) -> None:
    with tanium_sandbox(reputation_merge=merge) as box:
        assert apply(box, bundle(tmp_path, "v1", [file_obs(1, {"SHA-256": SHA})])) == 0
        httpx.post(
            f"{box.url}{REP}/upload",
            params={"append": "true"},
            headers={"session": TOKEN},
            json=[
                {
                    "list": "whitelist",
                    "md5": MD5,
                    "sha1": "",
                    "sha256": "",
                    "uploadedHash": MD5,
                    "notes": "known good (SOC-1234)",
                }
            ],
        ).raise_for_status()
        analyst = next(e for e in box.state()["reputation"] if e["list"] == "whitelist")
        v2 = bundle(tmp_path, "v2", [file_obs(1, {"SHA-256": SHA, "MD5": MD5})])
        assert apply(box, v2) == 0
        assert plan_code(box, v2) == 0
        assert analyst in box.state()["reputation"]
        assert apply(box, bundle(tmp_path, "v3", [indicator(5, "other.example")])) == 0
        assert analyst in box.state()["reputation"]
