"""Safety guards and side effects of a plan. Pure.

Guards fail closed: when any fails, every delete is withheld (`blocked`), and apply skips it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

from controller.core.desired import DesiredState
from controller.core.model import DesiredBlocklist, DesiredIntel
from controller.core.plan import Guard, PlanItem
from controller.core.reasons import Reason
from controller.policy.models import SettingsSpec

PERCENT_FLOOR = 10
"""Deletes up to this many are always within the percentage budget (1 of 3 is 33 %)."""


def counted_deletes(deletes: Sequence[PlanItem]) -> int:
    """Deletes the budget counts: our own surplus copies (`duplicate`) are free."""
    return sum(1 for d in deletes if d.action == "delete" and d.reason != Reason.DUPLICATE)


def within_budget(count: int, owned: int, settings: SettingsSpec) -> bool:
    budget = settings.deletion_budget
    limit_pct = budget.max_percent / 100 * owned if owned else 0
    return count <= budget.max and (count <= PERCENT_FLOOR or count <= limit_pct)


def guards(
    deletes: Sequence[PlanItem],
    desired: DesiredState,
    owned: int,
    owned_from_source: int,
    settings: SettingsSpec,
    complete: bool,
    reasons: Sequence[str],
) -> list[Guard]:
    budget = settings.deletion_budget
    out = [
        Guard(
            name="complete",
            ok=complete,
            detail="the source answered completely"
            if complete
            else "desired state is incomplete, deletes withheld: "
            + "; ".join(reasons or ("unknown",)),
        )
    ]
    count = counted_deletes(deletes)
    within = within_budget(count, owned, settings)
    detail = (
        f"{count} delete(s) of {owned} owned object(s); budget {budget.max} and "
        f"{budget.max_percent:g}%"
    )
    if not within:
        detail += " — exceeded, deletes withheld; raise Settings.spec.deletionBudget if intended"
    out.append(Guard(name="deletion-budget", ok=within, detail=detail))
    empty = owned_from_source > 0 and not _any_from_source(desired)
    if not empty:
        detail = "the source yields a non-empty desired state"
    elif budget.allow_empty:
        detail = (
            "the source yields nothing; deleting everything allowed by deletionBudget.allowEmpty"
        )
    else:
        detail = (
            "the source yields nothing while Tanium holds objects synced from it — refusing to "
            "delete everything (set deletionBudget.allowEmpty: true to allow)"
        )
    out.append(Guard(name="empty-desired", ok=not empty or budget.allow_empty, detail=detail))
    return out


def _any_from_source(desired: DesiredState) -> bool:
    """Whether anything desired comes from the source (not only from intel kept in Git).
    Lazy: the first item from the source answers (a pass holds 100,000)."""
    items: Iterable[DesiredIntel | DesiredBlocklist] = chain(
        desired.intel.values(), desired.blocklist.values()
    )
    return any(not s.startswith("static:") for item in items for s in item.sources)


def side_effects(
    items: Sequence[PlanItem], settings: SettingsSpec, undeployed: int
) -> list[PlanItem]:
    """One Intel DB deploy when intel content changed — or when an earlier pass left owned
    documents undeployed; coalesced quick-scans of new and changed content."""
    writes = [
        i
        for i in items
        if i.kind == "intel"
        and i.action != "no-op"
        and not i.blocked
        and not (i.action == "update" and i.reason == Reason.LABELS)
    ]
    out: list[PlanItem] = []
    if settings.deploy.mode == "auto" and (writes or undeployed):
        what = f"{len(writes)} document change(s)" if writes else ""
        if undeployed:
            what += (", " if what else "") + f"{undeployed} undeployed since the last deploy"
        out.append(
            PlanItem(
                action="create",
                kind="deploy",
                key="deploy",
                reason=Reason.CHANGED if writes else Reason.UNDEPLOYED,
                name=f"Intel DB deploy ({what})",
            )
        )
    if not settings.quick_scan.enabled:
        return out
    scans = [
        PlanItem(
            action="create",
            kind="scan",
            key=f"scan:{group}:{item.key}",
            reason=item.reason,
            name=f"{item.name} on {group}",
            desired={"group": group, "intel_key": item.key},
        )
        for item in writes
        if item.action != "delete" and item.desired is not None
        for group in item.desired.get("scan_groups", ())
    ]
    return out + scans[: settings.quick_scan.max_per_run]
