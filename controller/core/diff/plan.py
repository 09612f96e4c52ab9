"""DesiredState × ActualState → Plan: the orchestration of the diff. Pure.

Each concern has its comparator (`labels`, `intel`, `blocklist`); this module runs them,
applies the safety guards to their deletes, adds the side effects (one deploy, quick-scans)
and assembles the plan value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import compress, repeat
from operator import attrgetter, eq, ne
from typing import Required, TypedDict

from controller.core.desired import DesiredState
from controller.core.diagnostics import Diagnostic
from controller.core.diff.blocklist import diff_blocklist
from controller.core.diff.common import DiffResult
from controller.core.diff.intel import diff_intel
from controller.core.diff.labels import missing_labels
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
from controller.render.marker import ListingKeys, installation_id


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
    keys: ListingKeys | None = None,
) -> Plan:
    """`stored`: the write journal (see `controller.tanium.journal`), None without one.
    `learned`, when given, receives what the journal should record after this pass (see
    `diff_intel`); the plan is the same with or without either. `keys`: where the listings'
    ownership keys are kept for the rest of the pass (`ListingKeys`: the unowned list)."""
    intel = diff_intel(desired, actual, settled_at(settings, now), stored, learned, keys)
    blocklist = diff_blocklist(
        desired, actual, installation_id(settings.source), settings.adopt.blocklist, keys
    )
    kept, warned = drift_split((*intel.items, *blocklist.items), desired.drift_warn)
    return assemble(
        Joined(intel, blocklist, kept, warned, missing_labels(intel.label_sets, actual)),
        desired,
        actual,
        settings=settings,
        complete=complete,
        incomplete_reasons=incomplete_reasons,
        inputs=inputs,
        now=now,
        fingerprint=inventory_fingerprint(actual),
    )


def settled_at(settings: SettingsSpec, now: datetime | None) -> datetime | None:
    """Changes made before this instant are covered by a completed deploy, if any (a deploy
    may still be running for the later ones)."""
    return now - parse_duration(settings.deploy.retry_after) if now is not None else None


class PlanOptions(TypedDict, total=False):
    """`make_plan`'s keyword arguments, for what takes them all to hand them on (`PlanMemo`)."""

    settings: Required[SettingsSpec]
    complete: bool
    incomplete_reasons: Iterable[str]
    inputs: Inputs | None
    now: datetime | None
    stored: Mapping[TaniumId, tuple[str, str]] | None
    learned: MutableMapping[TaniumId, tuple[str, str]] | None


@dataclass(slots=True)
class Joined:
    """The per-key join of desired and actual state, what the plan is assembled from.

    `intel` and `blocklist` give their deletes, skipped, diagnostics and counts; their items
    come split by `drift_split` into `kept` and `warned` (so `assemble` reads neither half's
    `items`): `make_plan` joins the whole state, `PlanMemo` only the keys that moved."""

    intel: DiffResult
    blocklist: DiffResult
    kept: list[PlanItem]
    """The intel then blocklist items (creates, updates, no-ops) in desired order."""
    warned: list[tuple[PlanItem, Diagnostic]]
    labels: list[PlanItem]


def drift_split(
    items: Iterable[PlanItem], drift_warn: AbstractSet[str]
) -> tuple[list[PlanItem], list[tuple[PlanItem, Diagnostic]]]:
    """The items as planned, and the drift updates `drift: warn` turns into a no-op and a
    warning (100,000 no-ops go straight through: when no key warns of drift, or no item is
    an update, the items are kept as they are, picked in C)."""
    listed = list(items)
    if not drift_warn or not any(map(eq, map(_ACTION, listed), repeat("update"))):
        return listed, []
    warned: list[tuple[PlanItem, Diagnostic]] = []
    kept: list[PlanItem] = []
    for i in listed:
        if i.action == "update" and i.reason == Reason.DRIFT and i.key in drift_warn:
            warned.append(_drift_left(i))
        else:
            kept.append(i)
    return kept, warned


def assemble(
    joined: Joined,
    desired: DesiredState,
    actual: ActualState,
    *,
    settings: SettingsSpec,
    complete: bool,
    incomplete_reasons: Iterable[str],
    inputs: Inputs | None,
    now: datetime | None,
    fingerprint: str,
) -> Plan:
    """The plan from the join: deletes through the guards, side effects, summary. Costs the
    number of changes plus a few passes over `kept` in C (no Python step per no-op): the
    whole of an incremental pass that is not per-key work."""
    intel, blocklist = joined.intel, joined.blocklist
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
    kept, warned = joined.kept, [item for item, _ in joined.warned]
    # the kept items that are not no-ops: side effects and the summary need only those (and
    # the count of the rest: kept items are intel or blocklist, never blocked)
    changed = list(compress(kept, map(ne, map(_ACTION, kept), repeat("no-op"))))
    items = [*joined.labels, *kept, *warned, *deletes]
    moving = [*joined.labels, *changed, *warned, *deletes]
    effects = side_effects(moving, settings, intel.undeployed)
    items.extend(effects)
    summary = summarize([*moving, *effects])
    skipped = [
        Skipped(key=s.key, reason=s.reason, name=s.name, detail=s.detail) for s in desired.skipped
    ]
    skipped.extend(intel.skipped)
    skipped.extend(blocklist.skipped)
    return Plan(
        created_at=now,
        inputs=replace(
            inputs or Inputs(),
            inventory_fingerprint=fingerprint,
            source_name=actual.source_name,
        ),
        summary=replace(summary, no_op=summary.no_op + len(kept) - len(changed)),
        guards=tuple(checks),
        items=tuple(items),
        skipped=tuple(sorted(skipped, key=lambda s: (s.reason, s.key))),
        diagnostics=(
            *desired.diagnostics,
            *intel.diagnostics,
            *blocklist.diagnostics,
            *(note for _, note in joined.warned),
        ),
        unowned=intel.unowned + blocklist.unowned,
    )


_ACTION = attrgetter("action")


def _unknown_scope(delete: PlanItem) -> PlanItem:
    """An incomplete source cannot say an object left the scope: its delete is withheld for
    `source-incomplete`, never reported as `out-of-scope`."""
    if delete.reason != Reason.OUT_OF_SCOPE:
        return delete
    return replace(delete, reason=Reason.SOURCE_INCOMPLETE)


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
