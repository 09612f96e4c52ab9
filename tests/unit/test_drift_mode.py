"""`drift: warn` on a policy: a document edited in Tanium is reported, not corrected; where
policies overlap, `correct` wins."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from controller.core.desired import build_desired
from controller.core.diff import make_plan
from controller.core.plan import Plan
from controller.core.reasons import Reason
from controller.policy.loader import load_policies
from controller.sources.bundle import read_bundle
from tests.run.harness import domains, write_bundle
from tests.test_scenarios import NOW, as_applied

POLICY = """apiVersion: octi-tanium/v1
kind: IntelPolicy
metadata: {{name: {name}}}
spec:
  select: {{}}
  target: {{intel: {{}}}}
  drift: {drift}
"""


def plan_with(tmp_path: Path, *drifts: str) -> Plan:
    folder = tmp_path / "-".join(drifts)
    folder.mkdir()
    for n, drift in enumerate(drifts):
        (folder / f"p{n}.yaml").write_text(POLICY.format(name=f"p{n}", drift=drift))
    policies = load_policies(folder).policies
    snapshot = read_bundle(write_bundle(tmp_path / "b.json", domains(2)), now=NOW)
    desired = build_desired(policies, snapshot, now=NOW)
    actual = as_applied(desired)
    edited = dataclasses.replace(actual.intel[0], md5="0" * 32)  # edited, marker untouched
    actual = actual.model_copy(update={"intel": (edited, *actual.intel[1:])})
    return make_plan(desired, actual, settings=policies.settings, now=NOW)


def test_drift_is_corrected_by_default(tmp_path: Path) -> None:
    plan = plan_with(tmp_path, "correct")
    updates = [i for i in plan.items if i.action == "update"]
    assert [(i.reason, i.kind) for i in updates] == [(Reason.DRIFT, "intel")]


def test_drift_warn_reports_and_leaves_the_document(tmp_path: Path) -> None:
    plan = plan_with(tmp_path, "warn")
    assert not plan.has_changes
    kept = [i for i in plan.items if i.reason == Reason.DRIFT]
    assert [i.action for i in kept] == ["no-op"]
    notes = [d.message for d in plan.diagnostics if d.severity == "warning"]
    assert any("edited in Tanium; left as it is" in n for n in notes), notes


def test_where_policies_overlap_correct_wins(tmp_path: Path) -> None:
    plan = plan_with(tmp_path, "warn", "correct")
    assert [i.reason for i in plan.items if i.action == "update"] == [Reason.DRIFT]
