"""DesiredState × ActualState → Plan. Pure.

A keyed join over the whole state (dicts by key, linear time); field-level changes are
computed per item only where the cheap comparison already found a difference. Only owned
objects (a present, consistent marker) are ever planned for change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from controller.core.desired import DesiredState
from controller.core.diagnostics import Diagnostic
from controller.core.diff.blocklist import diff_blocklist
from controller.core.diff.common import (
    create_item,
    delete_item,
    field_changes,
    owned_split,
    payload,
)
from controller.core.guards import guards, side_effects
from controller.core.labels import label_key
from controller.core.model import ActualIntel, ActualState, DesiredIntel, Key
from controller.core.plan import (
    Change,
    Inputs,
    Plan,
    PlanItem,
    Skipped,
    inventory_fingerprint,
    summarize,
)
from controller.policy.models import SettingsSpec, parse_duration
from controller.render.marker import (
    MARKER_RE,
    installation_id,
    intrinsic_ids_for,
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
    settled = now - parse_duration(settings.deploy.retry_after) if now is not None else None
    intel = _diff_intel(desired, actual, settled)
    blocklist = diff_blocklist(desired, actual, installation_id(settings.source))
    deletes = intel.deletes + blocklist.deletes
    owned_from_source = intel.owned_from_source + blocklist.owned
    checks = guards(
        deletes,
        desired,
        intel.owned + blocklist.owned,
        owned_from_source,
        settings,
        complete,
        tuple(incomplete_reasons),
    )
    if not all(g.ok for g in checks):
        failing = ", ".join(g.name for g in checks if not g.ok)
        deletes = [replace(d, blocked=True, guard=failing) for d in deletes]
    items = [*_label_items(desired, actual), *intel.items, *blocklist.items, *deletes]
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


@dataclass
class _IntelDiff:
    items: list[PlanItem] = field(default_factory=list)
    deletes: list[PlanItem] = field(default_factory=list)
    owned: int = 0
    owned_from_source: int = 0
    unowned: int = 0
    undeployed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _holder(key: str, squatted: dict[str, ActualIntel]) -> ActualIntel | None:
    """An unowned document holding an intrinsic id this key renders to."""
    for intrinsic in intrinsic_ids_for(key):
        if intrinsic in squatted:
            return squatted[intrinsic]
    return None


def _diff_intel(desired: DesiredState, actual: ActualState, settled: datetime | None) -> _IntelDiff:
    def right_type(key: Key, doc: ActualIntel) -> bool:
        want = desired.intel.get(key)
        return want is not None and want.intel_type == doc.intel_type

    owned, unowned, duplicates = owned_split(actual.intel, owned_intel_key, right_type)
    out = _IntelDiff(owned=len(owned) + len(duplicates), unowned=len(unowned))
    out.owned_from_source = sum(1 for key in owned if not key.startswith("static:"))
    if actual.deploy_known:
        out.undeployed = actual.undeployed([*owned.values(), *duplicates], settled=settled)
    labels = _LabelIndex(actual)
    have_keys, want_keys = labels.have_keys, labels.want_keys
    items = out.items
    squatted = {d.intrinsic_id: d for d in unowned if d.intrinsic_id}
    for key, want in desired.intel.items():
        have = owned.get(key)
        if have is None:
            holder = _holder(key, squatted) if squatted else None
            if holder is None:
                items.append(create_item("intel", want))
            else:
                why = (
                    f"document {holder.id} ('{holder.name}') in the managed source has this "
                    "item's intrinsic id but no octi-tanium marker (edited by hand?); Tanium "
                    "would overwrite it on upload, so it is left alone — restore its "
                    "description or delete it"
                )
                out.skipped.append(Skipped(key=key, reason="conflict", name=want.name, detail=why))
                out.diagnostics.append(Diagnostic.warning(why, key=key))
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
        elif have.intel_type != want.intel_type:
            # Tanium cannot change a document's type in place (a PUT of another format makes
            # a new document): create the new one, then delete the old one.
            items.append(
                replace(
                    create_item("intel", want),
                    reason="changed",
                    changes=(Change(field="type", before=have.intel_type, after=want.intel_type),),
                )
            )
            out.deletes.append(
                delete_item(Key(f"{key}#{have.id}"), "intel", have.id, have.name, "replaced")
            )
        else:
            items.append(_compare_intel(want, have, labels))
    for key, doc in owned.items():
        if key not in desired.intel:
            out.deletes.append(delete_item(key, "intel", doc.id, doc.name, desired.gone.get(key)))
    for doc in duplicates:
        out.deletes.append(
            delete_item(
                Key(f"{owned_intel_key(doc)}#{doc.id}"), "intel", doc.id, doc.name, "duplicate"
            )
        )
    return out


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
    changes = list(field_changes(_visible(have_fields), _visible(want_fields)))
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
        desired=payload(want),
        before=before,
    )


def _marker_text(description: str) -> str:
    marker = parse_marker(description)
    return marker.text() if marker else ""


# --------------------------------------------------------------------------- labels


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
