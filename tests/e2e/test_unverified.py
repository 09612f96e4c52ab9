"""The unverified Tanium behaviours of issue 14, each a switch of the emulator: the controller
converges under every answer, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import Sandbox, tanium_sandbox
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


@pytest.mark.slow
@pytest.mark.parametrize(
    "switch",
    [
        {"intel_list_description": False},
        {"trailing_slash": "required"},
        {"trailing_slash": "forbidden"},
        {"openioc_strict": True},
        {"deploy_busy_message": "Bad Request", "deploy_duration_seconds": 0.2},
        {"reputation_notes_field": "comment"},
        {"reputation_delete_by_id": False},
    ],
    ids=lambda s: "=".join(map(str, next(iter(s.items())))),
)
def test_the_controller_converges_under_each_new_switch(switch: dict[str, Any]) -> None:
    with tanium_sandbox(seed="demo", **switch) as box:
        applied = box.cli(APPLY)
        assert applied.code == 0, applied.output
        again = box.cli(PLAN)
        assert again.code == 0, again.output
