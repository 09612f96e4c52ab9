"""Scenario folders for the planner: `tests/scenarios/<case>/` holds the policies, what
Tanium was synced from (`before.json`), what the source holds now (`source.json`), and the
expected plan (`expected.json`), and optionally the policies in force when Tanium was synced
(`before-policies.yaml`). New behaviour is a new folder."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.core.desired import DesiredState, build_desired
from controller.core.diff import make_plan
from controller.core.model import ActualBlocklist, ActualIntel, ActualLabel, ActualState, TaniumId
from controller.core.plan import Plan
from controller.policy.loader import load_policies
from controller.reconcile import plan_from
from controller.sources.bundle import read_bundle

NOW = datetime(2026, 11, 28, tzinfo=UTC)
CASES = sorted(p for p in (Path(__file__).parent / "scenarios").iterdir() if p.is_dir())


def as_applied(desired: DesiredState) -> ActualState:
    """Tanium exactly as an apply of `desired` leaves it."""
    names = sorted({n.casefold(): n for d in desired.intel.values() for n in d.labels}.values())
    labels = tuple(ActualLabel(id=TaniumId(i + 1), name=n) for i, n in enumerate(names))
    ids = {lb.name.casefold(): lb.id for lb in labels}
    docs = tuple(
        ActualIntel(
            id=TaniumId(i + 1),
            name=d.name,
            description=d.description,
            intel_type=d.intel_type,
            intrinsic_id=d.key,
            md5=d.md5,
            revision_id=1,
            label_ids=tuple(ids[n.casefold()] for n in d.labels),
            source_id=TaniumId(1),
        )
        for i, d in enumerate(desired.intel.values())
    )
    entries = tuple(
        ActualBlocklist(id=TaniumId(i + 1), md5=e.md5, sha1=e.sha1, sha256=e.sha256, notes=e.notes)
        for i, e in enumerate(desired.blocklist.values())
    )
    return ActualState(
        source_id=TaniumId(1),
        source_name="OpenCTI (octi-tanium)",
        intel=docs,
        labels=labels,
        blocklist=entries,
    )


def describe(item: object) -> str:
    action, kind, name, reason = (getattr(item, a) for a in ("action", "kind", "name", "reason"))
    if kind == "scan":
        name = name.replace(" on ", "-on-").replace(" ", "-")
    if kind == "deploy":
        name = "deploy"
    text = f"{action} {kind} {name} {reason}"
    return text + (" BLOCKED" if item.blocked else "")


def scenario_plan(case: Path) -> Plan:
    """The plan of a scenario folder, made by the pure pipeline."""
    expected = json.loads((case / "expected.json").read_text())
    loaded = load_policies(case / "policies.yaml")
    assert loaded.ok, [d.text() for d in loaded.diagnostics]
    policies = loaded.policies
    earlier = case / "before-policies.yaml"  # the policies in force when Tanium was synced
    before_policies = load_policies(earlier).policies if earlier.exists() else policies
    before = build_desired(before_policies, read_bundle(case / "before.json", now=NOW), now=NOW)
    snapshot = read_bundle(case / "source.json", now=NOW)
    if "incomplete" in expected:
        snapshot = snapshot.model_copy(
            update={"complete": False, "incomplete_reasons": (expected["incomplete"],)}
        )
    return plan_from(policies, snapshot, as_applied(before), now=NOW, source="scenario")[1]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_scenario(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text())
    plan = scenario_plan(case)
    got = sorted(describe(i) for i in plan.items if i.action != "no-op")
    assert got == sorted(expected["items"])
    skipped = sorted(f"{s.reason} {s.name}" for s in plan.skipped)
    assert skipped == sorted(expected.get("skipped", []))
    failing = [g.name for g in plan.guards if not g.ok]
    assert failing == expected.get("failing_guards", [])


def test_applying_the_plan_of_a_scenario_converges() -> None:
    """Sanity of the harness itself: planning against the applied desired state is empty."""
    case = next(c for c in CASES if c.name == "new-objects-are-created")
    policies = load_policies(case / "policies.yaml").policies
    desired = build_desired(policies, read_bundle(case / "source.json", now=NOW), now=NOW)
    plan = make_plan(desired, as_applied(desired), settings=policies.settings)
    assert not plan.has_changes
    assert replace(plan, items=()).summary.no_op == len(desired.intel) + len(desired.blocklist)
