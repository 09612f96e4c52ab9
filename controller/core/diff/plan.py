"""DesiredState × ActualState → Plan: the orchestration of the diff. Pure.

Each concern has its comparator (`labels`, `intel`, `blocklist`); this module runs them,
applies the safety guards to their deletes, adds the side effects (one deploy, quick-scans)
and assembles the plan value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import replace
from datetime import datetime

from controller.core.desired import DesiredState
from controller.core.diagnostics import Diagnostic
from controller.core.diff.blocklist import diff_blocklist
from controller.core.diff.intel import diff_intel
from controller.core.diff.labels import label_items
from controller.core.diff.migrate import migrations
from controller.core.guards import guards, side_effects
from controller.core.model import ActualState, TaniumId
from controller.core.plan import (
    Inputs,
    Plan,
    PlanItem,
    Skipped,
    inventory_fingerprint,
    summarize,
)
from controller.core.reasons import Reason
from controller.policy.models import SettingsSpec, parse_duration
from controller.render.marker import installation_id


def make_plan(
    desired: DesiredState,
    actual: ActualState,
    *,
    settings: SettingsSpec,
    complete: bool = True,
    incomplete_reasons: Iterable[str] = (),
    inputs: Inputs | None = None,
    now: datetime | None = None,
    stored: Mapping[TaniumId, tuple[str, str]] | None = None,
    learned: MutableMapping[TaniumId, tuple[str, str]] | None = None,
) -> Plan:
    """`stored`: the write journal (see `controller.tanium.journal`), None without one.
    `learned`, when given, receives what the journal should record after this pass (see
    `diff_intel`); the plan is the same with or without either."""
    settled = now - parse_duration(settings.deploy.retry_after) if now is not None else None
    intel = diff_intel(desired, actual, settled, stored, learned)
    blocklist = diff_blocklist(
        desired, actual, installation_id(settings.source), settings.adopt.blocklist
    )
    halves = (intel, blocklist)
    migrated = migrations(desired, actual)
    deletes = intel.deletes + blocklist.deletes + migrated
    checks = guards(
        deletes,
        desired,
        sum(h.owned for h in halves) + len(migrated),
        sum(h.owned_from_source for h in halves),
        settings,
        complete,
        tuple(incomplete_reasons),
    )
    if not complete:
        deletes = [_unknown_scope(d) for d in deletes]
    if not all(g.ok for g in checks):
        failing = ", ".join(g.name for g in checks if not g.ok)
        deletes = [replace(d, blocked=True, guard=failing) for d in deletes]
    warned: list[tuple[PlanItem, Diagnostic]] = []
    kept: list[PlanItem] = []
    for half in (intel.items, blocklist.items):  # one pass: 100,000 no-ops go straight through
        for i in half:
            if i.action == "update" and _warn(i, desired):
                warned.append(_drift_left(i))
            else:
                kept.append(i)
    items = [*label_items(desired, actual), *kept, *(item for item, _ in warned), *deletes]
    items.extend(side_effects(items, settings, intel.undeployed))
    skipped = [
        Skipped(key=s.key, reason=s.reason, name=s.name, detail=s.detail) for s in desired.skipped
    ]
    skipped.extend(intel.skipped)
    skipped.extend(blocklist.skipped)
    return Plan(
        created_at=now,
        inputs=replace(
            inputs or Inputs(),
            inventory_fingerprint=inventory_fingerprint(actual),
            source_name=actual.source_name,
        ),
        summary=summarize(items),
        guards=tuple(checks),
        items=tuple(items),
        skipped=tuple(sorted(skipped, key=lambda s: (s.reason, s.key))),
        diagnostics=(
            *desired.diagnostics,
            *intel.diagnostics,
            *blocklist.diagnostics,
            *(note for _, note in warned),
        ),
        unowned=intel.unowned + blocklist.unowned,
    )


def _unknown_scope(delete: PlanItem) -> PlanItem:
    """An incomplete source cannot say an object left the scope: its delete is withheld for
    `source-incomplete`, never reported as `out-of-scope`."""
    if delete.reason != Reason.OUT_OF_SCOPE:
        return delete
    return replace(delete, reason=Reason.SOURCE_INCOMPLETE)


def _warn(item: PlanItem, desired: DesiredState) -> bool:
    """A drift update whose policies all say `drift: warn`."""
    return (
        item.action == "update" and item.reason == Reason.DRIFT and item.key in desired.drift_warn
    )


def _drift_left(item: PlanItem) -> tuple[PlanItem, Diagnostic]:
    """`drift: warn`: the edited document is left as it is (a no-op, reason `drift`), and
    said so."""
    kept = PlanItem(
        action="no-op",
        kind=item.kind,
        key=item.key,
        reason=Reason.DRIFT,
        name=item.name,
        changes=item.changes,
        tanium_id=item.tanium_id,
    )
    note = Diagnostic.warning(
        f"{item.kind} {item.name or item.key} was edited in Tanium; left as it is "
        "(its policies say drift: warn)",
        key=item.key,
    )
    return kept, note
