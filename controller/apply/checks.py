"""Safety checks made at apply time against the fresh read of Tanium.

A saved plan is a file, and files can be edited or go stale: before any write the executor
re-checks the inventory fingerprint, the guards and the deletion budget (`controller.core.guards`,
the same functions the diff uses), and before each write that the object is ours under that
key (`controller.render.marker`, the same ownership rules as the diff), that no hash of an
upload sits in somebody else's Reputation entry, and that a document did not move since the
plan was made.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.core.diff.blocklist import adoptable
from controller.core.diff.changes import document_changes
from controller.core.guards import counted_deletes, within_budget
from controller.core.model import (
    ActualBlocklist,
    ActualIntel,
    ActualState,
    DesiredBlocklist,
    TaniumId,
)
from controller.core.plan import Change, Plan, PlanItem, inventory_fingerprint
from controller.core.reasons import Reason
from controller.errors import UserError
from controller.policy.models import SettingsSpec
from controller.render.marker import installation_id, owned_blocklist_key, owned_intel_key


class StalePlanError(UserError):
    """The inventory moved since the plan was made (or the plan cannot tell): plan again."""


def check_not_stale(plan: Plan, actual: ActualState) -> None:
    current = inventory_fingerprint(actual)
    if not plan.inputs.inventory_fingerprint:
        raise StalePlanError(
            "the plan carries no inventory fingerprint, so it cannot be checked against "
            "Tanium: make it with `octi-tanium plan --out`"
        )
    if current != plan.inputs.inventory_fingerprint:
        moved = what_moved(plan, actual)
        detail = (
            "; ".join(moved[:5]) + (f"; and {len(moved) - 5} more" if len(moved) > 5 else "")
            if moved
            else "objects the plan does not act on changed (fingerprint "
            f"{plan.inputs.inventory_fingerprint[:12]} → {current[:12]})"
        )
        taken = plan.inputs.snapshot_taken_at
        since = f"the snapshot of {taken:%Y-%m-%d %H:%M} UTC it" if taken else "it"
        raise StalePlanError(
            f"the plan is stale: Tanium's inventory changed since {since} was made: {detail}; "
            "run `octi-tanium plan` again"
        )


def what_moved(plan: Plan, actual: ActualState) -> list[str]:
    """For each object the plan acts on: what differs between the plan's `before` and the
    fresh read (field: before → after), or that it is gone."""
    intel = {d.id: d for d in actual.intel}
    entries = {e.id: e for e in actual.blocklist}
    out = []
    for item in plan.items:
        if not item.before or item.tanium_id is None:
            continue
        tanium_id = TaniumId(item.tanium_id)
        fresh = intel.get(tanium_id) if item.kind == "intel" else entries.get(tanium_id)
        what = f"{item.kind} {item.name or item.subject!r} (id {item.tanium_id})"
        if fresh is None:
            out.append(f"{what} is gone")
            continue
        now = fresh.to_json()
        moves = document_changes(item.before, {k: now.get(k) for k in item.before if k in now})
        if moves:
            out.append(f"{what}: " + ", ".join(_move(c) for c in moves))
    return out


def _move(change: Change) -> str:
    return f"{change.field} {change.before!r} → {change.after!r}"


class Ownership:
    """What the fresh read says is ours: owned documents and this installation's entries."""

    def __init__(self, actual: ActualState) -> None:
        self.actual = actual
        self.intel_by_id = {d.id: d for d in actual.intel}
        self._entries: dict[TaniumId, str] | None = None

    def entries(self) -> dict[TaniumId, str]:
        """Owned blocklist entries by id → key (computed once)."""
        if self._entries is None:
            installation = installation_id(self.actual.source_name)
            self._entries = {}
            for entry in self.actual.blocklist:
                key = owned_blocklist_key(entry, installation)
                if key is not None:
                    self._entries[entry.id] = key
        return self._entries

    def owned_count(self) -> int:
        owned = sum(1 for d in self.actual.intel if owned_intel_key(d) is not None)
        return owned + len(self.entries())

    def refusal(self, item: PlanItem) -> str | None:
        """Why `item` must not touch its Tanium object (None: it is ours, under that key)."""
        base = item.subject
        if item.reason in (Reason.MIGRATED, Reason.ADOPTED):
            return self._takeover_refusal(item)
        if item.kind == "blocklist" and item.before and item.before.get("key"):
            base = str(item.before["key"])  # updated in place under its previous key
        if item.kind == "intel":
            doc = self.intel_by_id.get(TaniumId(item.tanium_id or 0))
            if doc is not None and owned_intel_key(doc) == base:
                return None
        elif self.entries().get(TaniumId(item.tanium_id or 0)) == base:
            return None
        return (
            f"Tanium object {item.tanium_id} is not an octi-tanium object with key {base} in "
            "the managed source: refusing to touch it"
        )

    def _takeover_refusal(self, item: PlanItem) -> str | None:
        """A migrated document must be one of the adopted sources'; an adopted entry must
        still be unowned and hold only the desired file's hashes."""
        target = TaniumId(item.tanium_id or 0)
        if item.reason == Reason.MIGRATED:
            if any(d.id == target for d in self.actual.adoptable):
                return None
            return f"intel {target} is not in a source of Settings.adopt.fromSources: refusing"
        entry = next((e for e in self.actual.blocklist if e.id == target), None)
        if (
            entry is not None
            and target not in self.entries()
            and item.desired
            and adoptable(DesiredBlocklist.model_validate(item.desired), entry)
        ):
            return None
        return f"Reputation entry {target} can no longer be adopted (changed or taken): refusing"

    def foreign_hashes(self) -> dict[str, ActualBlocklist]:
        """Every hash held by a Reputation entry we do not own."""
        owned = self.entries()
        return {
            h.lower(): e
            for e in self.actual.blocklist
            if e.id not in owned
            for h in (e.md5, e.sha1, e.sha256)
            if h
        }


def foreign_clash(item: PlanItem, foreign: dict[str, ActualBlocklist]) -> str | None:
    """Why uploading `item` would merge into somebody else's entry (None: it would not)."""
    adopting = item.tanium_id if item.reason == Reason.ADOPTED else None
    clash = next(
        (
            foreign[h]
            for k in ("md5", "sha1", "sha256")
            if (h := str((item.desired or {}).get(k) or ""))
            and h in foreign
            and foreign[h].id != adopting
        ),
        None,
    )
    if clash is None:
        return None
    return (
        f"a hash is held by Reputation entry {clash.id} ({clash.list}), not created "
        "by octi-tanium: refusing to upload into it"
    )


def withheld_by_guards(
    plan: Plan, items: Sequence[PlanItem], ownership: Ownership, settings: SettingsSpec | None
) -> str | None:
    """The guards re-checked at apply time: the names of the failing ones, else None."""
    failing = [g.name for g in plan.guards if not g.ok]
    if failing:
        return ", ".join(failing)
    deletes = counted_deletes(list(items))
    if settings is not None and not within_budget(deletes, ownership.owned_count(), settings):
        return "deletion-budget (re-checked at apply)"
    return None


def moved_since_plan(item: PlanItem, current: ActualIntel) -> str | None:
    """Why an update must not go ahead: its document changed in Tanium since the plan."""
    before = item.before or {}
    if before and (
        current.md5 != before.get("md5") or current.revision_id != before.get("revision_id")
    ):
        now = current.to_json()
        moves = document_changes(
            {k: before.get(k) for k in ("md5", "revision_id")},
            {k: now.get(k) for k in ("md5", "revision_id")},
        )
        return (
            f"document {item.tanium_id} changed in Tanium since the plan was made "
            f"({', '.join(_move(c) for c in moves)}); run `octi-tanium plan` again"
        )
    return None
