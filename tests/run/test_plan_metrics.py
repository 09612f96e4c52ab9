"""The last plan's gauges count its items by kind, action and reason, its drift and what a
guard withheld — whatever mix of reasons (enum members or their strings) the items carry."""

from __future__ import annotations

from prometheus_client import REGISTRY

from controller.core.plan import Guard, Plan, PlanItem
from controller.core.reasons import Reason
from controller.run.metrics import observe_plan


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def item(action: str, kind: str, reason: Reason | str, *, blocked: bool = False) -> PlanItem:
    return PlanItem(
        action=action,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        key=f"k-{action}-{reason}",
        reason=reason,
        blocked=blocked,
    )


def test_items_drift_and_blocks_are_counted() -> None:
    items = (
        [item("no-op", "intel", Reason.IN_SYNC)] * 5
        + [item("create", "intel", Reason.NEW), item("create", "intel", "new")]
        + [item("update", "intel", Reason.DRIFT)] * 3
        + [item("delete", "blocklist", Reason.DRIFT, blocked=True)]
        + [item("delete", "intel", Reason.REVOKED, blocked=True)] * 2
    )
    plan = Plan(items=tuple(items), guards=(Guard(name="complete", ok=True, detail=""),))
    observe_plan(plan, desired=10, owned=11, actual=12)
    assert value("octi_tanium_plan_items", kind="intel", action="no-op", reason="in-sync") == 5
    assert value("octi_tanium_plan_items", kind="intel", action="create", reason="new") == 2
    assert value("octi_tanium_plan_items", kind="intel", action="update", reason="drift") == 3
    assert value("octi_tanium_plan_items", kind="blocklist", action="delete", reason="drift") == 1
    assert value("octi_tanium_drift_items") == 4
    assert value("octi_tanium_blocked_items") == 3
    assert value("octi_tanium_source_complete") == 1

    observe_plan(
        Plan(items=(item("no-op", "label", Reason.IN_SYNC),)), desired=0, owned=0, actual=0
    )
    assert value("octi_tanium_plan_items", kind="intel", action="no-op", reason="in-sync") is None
    assert value("octi_tanium_drift_items") == 0
    assert value("octi_tanium_blocked_items") == 0
