"""DesiredState × ActualState → Plan: the orchestration of the diff. Pure.

Each concern has its comparator (`labels`, `intel`, `blocklist`); this module runs them,
applies the safety guards to their deletes, adds the side effects (one deploy, quick-scans)
and assembles the plan value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from controller.core.desired import DesiredState
from controller.core.diff.blocklist import diff_blocklist
from controller.core.diff.intel import diff_intel
from controller.core.diff.labels import label_items
from controller.core.diff.migrate import migrations
from controller.core.guards import guards, side_effects
from controller.core.model import ActualState, TaniumId
from controller.core.plan import Inputs, Plan, Skipped, inventory_fingerprint, summarize
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
) -> Plan:
    """`stored`: the write journal (see `controller.tanium.journal`), None without one."""
    settled = now - parse_duration(settings.deploy.retry_after) if now is not None else None
    intel = diff_intel(desired, actual, settled, stored)
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
    if not all(g.ok for g in checks):
        failing = ", ".join(g.name for g in checks if not g.ok)
        deletes = [replace(d, blocked=True, guard=failing) for d in deletes]
    items = [*label_items(desired, actual), *intel.items, *blocklist.items, *deletes]
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
        diagnostics=(*desired.diagnostics, *intel.diagnostics, *blocklist.diagnostics),
        unowned=intel.unowned + blocklist.unowned,
    )
