"""DesiredState × ActualState → Plan. Pure.

A keyed join over the whole state (dicts by key, linear time); field-level changes are
computed per item only where the cheap comparison already found a difference. Only owned
objects (a present, consistent marker) are ever planned for change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from deepdiff import DeepDiff

from controller.desired import DesiredState
from controller.labels import label_key
from controller.model import (
    ActualBlocklist,
    ActualIntel,
    ActualState,
    DesiredBlocklist,
    DesiredIntel,
    Key,
)
from controller.plan import (
    Change,
    Guard,
    Inputs,
    Plan,
    PlanItem,
    Skipped,
    inventory_fingerprint,
    summarize,
)
from controller.policy.models import SettingsSpec
from controller.render.marker import (
    MARKER_RE,
    owned_blocklist_key,
    owned_intel_key,
    parse_marker,
)


def make_plan(
    desired: DesiredState,
    actual: ActualState,
    *,
    settings: SettingsSpec,
    complete: bool = True,
    incomplete_reasons: Iterable[str] = (),
    inputs: Inputs | None = None,
    now: datetime | None = None,
) -> Plan:
    labels = _LabelIndex(actual)
    owned_intel, unowned_intel, duplicate_intel = _owned(actual.intel, owned_intel_key)
    owned_block, unowned_block, duplicate_block = _owned(actual.blocklist, owned_blocklist_key)
    items: list[PlanItem] = []
    items.extend(_label_items(desired, actual))
    have_keys, want_keys = labels.have_keys, labels.want_keys
    for key, want in desired.intel.items():
        have = owned_intel.get(key)
        if have is None:
            items.append(_create_intel(want))
        elif (
            have.md5 == want.md5
            and have.description == want.description
            and have.name == want.name
            and have.intel_type == want.intel_type
            and have_keys(have.label_ids) == want_keys(want.labels)
        ):  # the common case, kept tight: 100,000 of these per pass
            items.append(
                PlanItem(
                    action="no-op",
                    kind="intel",
                    key=key,
                    reason="in-sync",
                    name=want.name,
                    tanium_id=have.id,
                )
            )
        else:
            items.append(_compare_intel(want, have, labels))
    for key, wanted in desired.blocklist.items():
        have_entry = owned_block.get(key)
        items.append(
            _create_entry(wanted) if have_entry is None else _compare_entry(wanted, have_entry)
        )
    deletes: list[PlanItem] = []
    for key, doc in owned_intel.items():
        if key not in desired.intel:
            deletes.append(_delete(key, "intel", doc.id, doc.name, desired.gone.get(key)))
    for key, entry_have in owned_block.items():
        if key not in desired.blocklist:
            deletes.append(
                _delete(
                    key,
                    "blocklist",
                    entry_have.id,
                    entry_have.sha256 or entry_have.md5,
                    desired.gone.get(key),
                )
            )
    for doc in duplicate_intel:
        deletes.append(
            _delete(Key(f"{owned_intel_key(doc)}#{doc.id}"), "intel", doc.id, doc.name, "duplicate")
        )
    for extra in duplicate_block:
        deletes.append(
            _delete(
                Key(f"{owned_blocklist_key(extra)}#{extra.id}"),
                "blocklist",
                extra.id,
                extra.sha256 or extra.md5,
                "duplicate",
            )
        )
    owned_count = len(owned_intel) + len(owned_block) + len(duplicate_intel) + len(duplicate_block)
    guards = _guards(deletes, desired, owned_count, settings, complete, tuple(incomplete_reasons))
    if not all(g.ok for g in guards):
        failing = ", ".join(g.name for g in guards if not g.ok)
        deletes = [replace(d, blocked=True, guard=failing) for d in deletes]
    items.extend(deletes)
    items.extend(_side_effects(items, settings))
    fingerprint = inventory_fingerprint(actual)
    base_inputs = inputs or Inputs()
    return Plan(
        created_at=now,
        inputs=replace(
            base_inputs, inventory_fingerprint=fingerprint, source_name=actual.source_name
        ),
        summary=summarize(items),
        guards=tuple(guards),
        items=tuple(items),
        skipped=tuple(
            Skipped(key=s.key, reason=s.reason, name=s.name, detail=s.detail)
            for s in sorted(desired.skipped, key=lambda s: (s.reason, s.key))
        ),
        diagnostics=tuple(desired.diagnostics),
        unowned=len(unowned_intel) + len(unowned_block),
    )


T = TypeVar("T", ActualIntel, ActualBlocklist)

# Deletes up to this many are always within the percentage budget (a 1-of-3 delete is 33 %).
PERCENT_FLOOR = 10


def _owned(objects: Iterable[T], key_of: Any) -> tuple[dict[Key, T], list[T], list[T]]:
    """Split into owned-by-key, unowned, and surplus copies of an owned key (lowest id wins)."""
    owned: dict[Key, T] = {}
    unowned: list[T] = []
    duplicates: list[T] = []
    for obj in objects:
        key = key_of(obj)
        if key is None:
            unowned.append(obj)
            continue
        kept = owned.get(key)
        if kept is None:
            owned[key] = obj
        elif obj.id < kept.id:
            owned[key] = obj
            duplicates.append(kept)
        else:
            duplicates.append(obj)
    duplicates.sort(key=lambda o: o.id)
    return owned, unowned, duplicates


class _LabelIndex:
    """Label comparisons without re-folding the same names 100,000 times."""

    def __init__(self, actual: ActualState) -> None:
        self.names: dict[int, str] = {label.id: label.name for label in actual.labels}
        self._have: dict[tuple[int, ...], frozenset[str]] = {}
        self._want: dict[tuple[str, ...], frozenset[str]] = {}

    def have_keys(self, label_ids: tuple[int, ...]) -> frozenset[str]:
        found = self._have.get(label_ids)
        if found is None:  # a few dozen distinct label sets per inventory
            found = frozenset(label_key(self.names.get(i, f"#{i}")) for i in label_ids)
            self._have[label_ids] = found
        return found

    def want_keys(self, labels: tuple[str, ...]) -> frozenset[str]:
        found = self._want.get(labels)
        if found is None:
            found = frozenset(label_key(x) for x in labels)
            self._want[labels] = found
        return found

    def have_names(self, label_ids: tuple[int, ...]) -> list[str]:
        return sorted((self.names.get(i, f"#{i}") for i in label_ids), key=label_key)


# --------------------------------------------------------------------------- intel


def _intel_payload(doc: DesiredIntel) -> dict[str, Any]:
    return doc.model_dump(mode="json", exclude={"sources", "priority"})


def _create_intel(doc: DesiredIntel) -> PlanItem:
    return PlanItem(
        action="create",
        kind="intel",
        key=doc.key,
        reason="new",
        name=doc.name,
        desired=_intel_payload(doc),
    )


def _visible(doc_fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc_fields)
    out["description"] = MARKER_RE.sub("", str(out["description"]).rstrip()).rstrip()
    return out


def _compare_intel(want: DesiredIntel, have: ActualIntel, labels: _LabelIndex) -> PlanItem:
    content_equal = (
        have.md5 == want.md5
        and have.name == want.name
        and have.description == want.description
        and have.intel_type == want.intel_type
    )
    labels_equal = labels.have_keys(have.label_ids) == labels.want_keys(want.labels)
    if content_equal and labels_equal:
        return PlanItem(
            action="no-op",
            kind="intel",
            key=want.key,
            reason="in-sync",
            name=want.name,
            changes=(),
            tanium_id=have.id,
            blocked=False,
            guard=None,
            desired=None,
            before=None,
        )
    have_fields = {
        "type": have.intel_type,
        "name": have.name,
        "description": have.description,
        "content": have.md5,
    }
    want_fields = {
        "type": want.intel_type,
        "name": want.name,
        "description": want.description,
        "content": want.md5,
    }
    before = {
        "md5": have.md5,
        "revision_id": have.revision_id,
        "label_ids": list(have.label_ids),
        "intrinsic_id": have.intrinsic_id,
    }
    changes = list(_field_changes(_visible(have_fields), _visible(want_fields)))
    if have.description != want.description and not any(c.field == "description" for c in changes):
        changes.append(
            Change(
                field="marker",
                before=_marker_text(have.description),
                after=_marker_text(want.description),
            )
        )
    if not labels_equal:
        changes.append(
            Change(
                field="labels", before=labels.have_names(have.label_ids), after=list(want.labels)
            )
        )
    if content_equal:
        reason = "labels"
    else:
        marker = parse_marker(have.description)
        reason = "drift" if marker is not None and marker.digest == want.digest else "changed"
    return PlanItem(
        action="update",
        kind="intel",
        key=want.key,
        reason=reason,
        name=want.name,
        changes=tuple(changes),
        tanium_id=have.id,
        desired=_intel_payload(want),
        before=before,
    )


def _marker_text(description: str) -> str:
    marker = parse_marker(description)
    return marker.text() if marker else ""


def _field_changes(before: dict[str, Any], after: dict[str, Any]) -> Iterable[Change]:
    """Field-level changes of one item (DeepDiff on two small dicts, never the whole state)."""
    delta = DeepDiff(before, after, ignore_order=True, view="tree")
    fields: set[str] = set()
    for report in delta.values():
        for level in report:
            path = level.path(output_format="list")
            if path:
                fields.add(str(path[0]))
    for name in sorted(fields):
        yield Change(field=name, before=before.get(name), after=after.get(name))


# --------------------------------------------------------------------------- blocklist


def _entry_payload(entry: DesiredBlocklist) -> dict[str, Any]:
    return entry.model_dump(mode="json", exclude={"sources", "priority"})


def _create_entry(entry: DesiredBlocklist) -> PlanItem:
    return PlanItem(
        action="create",
        kind="blocklist",
        key=entry.key,
        reason="new",
        name=entry.name,
        desired=_entry_payload(entry),
    )


def _compare_entry(want: DesiredBlocklist, have: ActualBlocklist) -> PlanItem:
    have_fields = {
        "md5": have.md5.lower(),
        "sha1": have.sha1.lower(),
        "sha256": have.sha256.lower(),
        "notes": have.notes,
    }
    want_fields = {"md5": want.md5, "sha1": want.sha1, "sha256": want.sha256, "notes": want.notes}
    if have_fields == want_fields:
        return PlanItem(
            action="no-op",
            kind="blocklist",
            key=want.key,
            reason="in-sync",
            name=want.name,
            changes=(),
            tanium_id=have.id,
            blocked=False,
            guard=None,
            desired=None,
            before=None,
        )
    marker = parse_marker(have.notes)
    hashes_same = all(have_fields[k] == want_fields[k] for k in ("md5", "sha1", "sha256"))
    reason = (
        "labels"
        if hashes_same and marker and marker.digest == want.digest
        else ("drift" if marker is not None and marker.digest == want.digest else "changed")
    )
    return PlanItem(
        action="update",
        kind="blocklist",
        key=want.key,
        reason=reason,
        name=want.name,
        changes=tuple(_field_changes(have_fields, want_fields)),
        tanium_id=have.id,
        desired=_entry_payload(want),
        before=have_fields,
    )


# --------------------------------------------------------------------------- deletes, labels


def _delete(key: Key, kind: str, tanium_id: int, name: str, reason: str | None) -> PlanItem:
    return PlanItem(
        action="delete",
        kind=kind,  # type: ignore[arg-type]
        key=key,
        reason=reason or "out-of-scope",
        name=name,
        tanium_id=tanium_id,
    )


def _label_items(desired: DesiredState, actual: ActualState) -> list[PlanItem]:
    existing = {label_key(label.name) for label in actual.labels}
    wanted: dict[str, str] = {}
    for labels in sorted({doc.labels for doc in desired.intel.values()}):
        for name in labels:
            wanted.setdefault(label_key(name), name)
    return [
        PlanItem(
            action="create",
            kind="label",
            key=f"label:{k}",
            reason="new",
            name=name,
            desired={"name": name},
        )
        for k, name in sorted(wanted.items())
        if k not in existing
    ]


def _side_effects(items: list[PlanItem], settings: SettingsSpec) -> list[PlanItem]:
    """One Intel DB deploy when intel changed; coalesced quick-scans of new/changed content."""
    intel_writes = [
        i
        for i in items
        if i.kind == "intel"
        and i.action != "no-op"
        and not i.blocked
        and not (i.action == "update" and i.reason == "labels")
    ]
    out: list[PlanItem] = []
    if intel_writes and settings.deploy.mode == "auto":
        out.append(
            PlanItem(
                action="create",
                kind="deploy",
                key="deploy",
                reason="changed",
                name=f"Intel DB deploy ({len(intel_writes)} document change(s))",
            )
        )
    if not settings.quick_scan.enabled:
        return out
    scans: list[PlanItem] = []
    for item in intel_writes:
        if item.action == "delete" or item.desired is None:
            continue
        for group in item.desired.get("scan_groups", ()):
            scans.append(
                PlanItem(
                    action="create",
                    kind="scan",
                    key=f"scan:{group}:{item.key}",
                    reason=item.reason,
                    name=f"{item.name} on {group}",
                    desired={"group": group, "intel_key": item.key},
                )
            )
    return out + scans[: settings.quick_scan.max_per_run]


def _guards(
    deletes: list[PlanItem],
    desired: DesiredState,
    owned: int,
    settings: SettingsSpec,
    complete: bool,
    reasons: tuple[str, ...],
) -> list[Guard]:
    budget = settings.deletion_budget
    guards = [
        Guard(
            name="complete",
            ok=complete,
            detail="the source answered completely"
            if complete
            else "desired state is incomplete, deletes withheld: "
            + "; ".join(reasons or ("unknown",)),
        )
    ]
    count = len(deletes)
    limit_pct = budget.max_percent / 100 * owned if owned else 0
    within = count <= budget.max and (count <= PERCENT_FLOOR or count <= limit_pct)
    guards.append(
        Guard(
            name="deletion-budget",
            ok=within,
            detail=f"{count} delete(s) of {owned} owned object(s); budget {budget.max} and "
            f"{budget.max_percent:g}%"
            + (
                ""
                if within
                else " — exceeded, deletes withheld; raise "
                "Settings.spec.deletionBudget if this is intended"
            ),
        )
    )
    empty = desired.size == 0 and owned > 0
    guards.append(
        Guard(
            name="empty-desired",
            ok=not empty or budget.allow_empty,
            detail="desired state is empty while Tanium holds owned objects — refusing to delete "
            "everything (set deletionBudget.allowEmpty: true to allow)"
            if empty and not budget.allow_empty
            else "desired state is not empty"
            if not empty
            else "desired state is empty; allowed by deletionBudget.allowEmpty",
        )
    )
    return guards
