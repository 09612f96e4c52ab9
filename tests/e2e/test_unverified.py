"""The unverified Tanium behaviours of issue 14, each a switch of the emulator: the controller
converges under every answer, over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Sandbox, json_of, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING
from tests.e2e.test_switches import DEMO

SOURCE = f"bundle:{DEMO}"
APPLY = ["apply", "--policies", str(EVERYTHING), "--source", SOURCE, "--auto-approve"]
PLAN = ["plan", "--policies", str(EVERYTHING), "--source", SOURCE, "--detailed-exitcode"]


def writes(box: Sandbox) -> dict[str, int]:
    """Every counted request that changes something, by route."""
    counted: dict[str, int] = box.state()["counters"]["requests"]
    return {k: v for k, v in counted.items() if not k.startswith("GET ")}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["whitespace", "xml"])
def test_normalised_content_is_written_once_then_left_alone(mode: str) -> None:
    with tanium_sandbox(seed="demo", intel_content_normalization=mode) as box:
        applied = box.cli(APPLY)
        assert applied.code == 0, applied.output
        before, deploys = writes(box), box.state()["counters"]["deploys"]
        assert deploys == 1
        again = box.cli(PLAN)
        assert again.code == 0, again.output
        second = box.cli(APPLY)
        assert second.code == 0, second.output
        assert writes(box) == before, "the second pass wrote"
        assert box.state()["counters"]["deploys"] == deploys, "the second pass deployed"


def test_normalisation_really_changes_what_the_server_stores() -> None:
    """The switch is effective: without the journal every pass would rewrite (one per
    normalised document after a lost journal — the documented cost)."""
    with tanium_sandbox(seed="demo", intel_content_normalization="xml") as box:
        assert box.cli(APPLY).code == 0
        listed = box.plan_json(EVERYTHING, SOURCE)
        assert listed["summary"]["update"] == 0
        lost = box.cli(PLAN, env={"OCTI_TANIUM_STATE_DIR": "/nonexistent-journal-dir"})
        assert lost.code == 2, lost.output  # without the journal: one rewrite each


def plan_of(box: Sandbox, policies: Path = EVERYTHING) -> dict[str, Any]:
    result = box.cli(["plan", "--policies", str(policies), "--source", SOURCE, "--format", "json"])
    return json_of(result.output)


def test_listings_without_description_still_show_every_owned_document() -> None:
    with tanium_sandbox(seed="demo", intel_list_description=False) as box:
        assert box.cli(APPLY).code == 0
        plan = plan_of(box)
        intel = [i for i in plan["items"] if i["kind"] == "intel"]
        assert intel and all(i["action"] == "no-op" and i["reason"] != "conflict" for i in intel)


INTEL_ONLY = """\
apiVersion: octi-tanium/v1
kind: IntelPolicy
metadata: {name: everything}
spec:
  select: {}
  target: {intel: {}}
---
apiVersion: octi-tanium/v1
kind: Settings
metadata: {name: settings}
spec:
  source: OpenCTI (octi-tanium)
  deletionBudget: {max: 10000, maxPercent: 100}
"""


def owned_entries(box: Sandbox) -> list[dict[str, Any]]:
    return [
        e for e in box.state()["reputation"] if "octi-tanium:v1" in json.dumps(e, sort_keys=True)
    ]


def test_a_reputation_list_404_leaves_the_intel_half_converged() -> None:
    with tanium_sandbox(seed="demo", reputation_list_route=False) as box:
        applied = box.cli(APPLY)
        assert applied.code == 0, applied.output
        plan = plan_of(box)
        assert all(i["action"] == "no-op" for i in plan["items"] if i["kind"] == "intel")
        assert not [i for i in plan["items"] if i["kind"] == "blocklist"]
        assert any("blocklist could not be read" in d["message"] for d in plan["diagnostics"])
        assert not owned_entries(box), "entries uploaded without knowing the list"
        assert (
            box.state()["counters"]["requests"].get(
                "POST /plugin/products/threat-response/api/v1/intel/deploy"
            )
            == 1
        )


@pytest.mark.parametrize("by_id", [True, False])
def test_blocklist_deletes_happen_or_are_never_reported_done(tmp_path: Path, by_id: bool) -> None:
    policies = tmp_path / "desired"
    policies.mkdir()
    (policies / "intel-only.yaml").write_text(INTEL_ONLY, encoding="utf-8")
    with tanium_sandbox(seed="demo", reputation_delete_by_id=by_id) as box:
        assert box.cli(APPLY).code == 0
        assert owned_entries(box)
        removed = box.cli(
            ["apply", "--policies", str(policies), "--source", SOURCE, "--auto-approve"]
        )
        assert removed.code == 0, removed.output
        assert not owned_entries(box), "a delete reported done left the entry in place"
        again = box.cli(
            ["plan", "--policies", str(policies), "--source", SOURCE, "--detailed-exitcode"]
        )
        assert again.code == 0, again.output


def test_a_blocklist_delete_that_cannot_happen_is_reported_failed(tmp_path: Path) -> None:
    policies = tmp_path / "desired"
    policies.mkdir()
    (policies / "intel-only.yaml").write_text(INTEL_ONLY, encoding="utf-8")
    with tanium_sandbox(seed="demo", reputation_delete_by_id=False) as box:
        assert box.cli(APPLY).code == 0
        entries = len(owned_entries(box))
        box.post(
            "/__sandbox/faults",
            [
                {
                    "kind": "error",
                    "status": 404,
                    "method": "POST",
                    "route": "*/reputations/custom/delete",
                }
            ],
        )
        removed = box.cli(
            ["apply", "--policies", str(policies), "--source", SOURCE, "--auto-approve"]
        )
        assert removed.code == 1, removed.output
        assert f"0 deleted, {entries} failed" in removed.output
        assert len(owned_entries(box)) == entries


URLS_OFF = """\
apiVersion: octi-tanium/v1
kind: IntelPolicy
metadata: {name: no-urls}
spec:
  select: {}
  target: {intel: {urls: false}}
"""


def test_url_documents_can_be_turned_off_per_policy(tmp_path: Path) -> None:
    policies = tmp_path / "desired"
    policies.mkdir()
    (policies / "no-urls.yaml").write_text(URLS_OFF, encoding="utf-8")
    with tanium_sandbox() as box:
        with_urls = box.plan_json(EVERYTHING, SOURCE)
        assert [i for i in with_urls["items"] if i["key"].startswith("url--")]
        plan = box.plan_json(policies, SOURCE)
        assert not [i for i in plan["items"] if "UrlHistoryItem" in json.dumps(i)]
        skipped = [s for s in plan["skipped"] if "URL document" in s.get("detail", "")]
        assert skipped and all(s["reason"] == "no-target" for s in skipped)
        assert [i for i in plan["items"] if i["key"].startswith("ipv4-addr--")]


def test_a_busy_deploy_is_recognised_by_its_status_not_its_words() -> None:
    """Issue #3593 shows a bare "Bad Request" while another deploy runs: wait, deploy again."""
    import asyncio

    from controller.retry import RetryPolicy
    from controller.tanium.client import TaniumClient
    from tests.e2e.harness import TOKEN

    with tanium_sandbox(deploy_duration_seconds=0.5, deploy_busy_message="Bad Request") as box:

        async def twice() -> tuple[int, int]:
            retry = RetryPolicy(base_delay=0.2, max_delay=0.3)
            async with TaniumClient(box.url, TOKEN, retry=retry) as client:
                return await client.deploy(), await client.deploy()

        first, second = asyncio.run(twice())
        assert first and second and first != second
        counters = box.state()["counters"]
        assert counters["deploys"] == 2
        sent = counters["requests"]["POST /plugin/products/threat-response/api/v1/intel/deploy"]
        assert sent >= 3, "the second deploy was never refused as busy"
