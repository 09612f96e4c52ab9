"""What the intel and blocklist halves of the diff share: one result type, one way to split
owned from unowned, one no-op, one conflict report, one drift-vs-changed rule. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from controller.core.diagnostics import Diagnostic
from controller.core.model import ActualBlocklist, ActualIntel, DesiredBlocklist, DesiredIntel, Key
from controller.core.plan import Kind, Origins, PlanItem, Skipped, noop_of, origins_of
from controller.core.reasons import Reason
from controller.render.marker import parse_marker

T = TypeVar("T", ActualIntel, ActualBlocklist)


@dataclass
class DiffResult:
    """One half of the diff (intel or blocklist), before guards and side effects."""

    items: list[PlanItem] = field(default_factory=list)
    """Creates, updates and no-ops."""
    deletes: list[PlanItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    owned: int = 0
    """Owned objects in Tanium, surplus copies included."""
    owned_from_source: int = 0
    """Of those, the ones that came from the source (not `static:`), for the empty-desired guard."""
    unowned: int = 0
    undeployed: int = 0
    """Owned documents changed after the last completed deployment."""
    label_sets: set[tuple[str, ...]] = field(default_factory=set)
    """The distinct label sets of the desired items (intel: `label_items`'s input), collected
    by the pass over them that the diff makes anyway."""


def owned_split(
    objects: Sequence[T],
    keys: Sequence[Key | None],
    prefer: Callable[[Key, T], bool] | None = None,
) -> tuple[dict[Key, T], list[T], list[T]]:
    """Owned-by-key, unowned, and surplus copies of an owned key, from each object's owned
    key (`keys`, in the order of `objects`; None: not ours). Among copies, the one `prefer`
    accepts wins (e.g. of the desired type), then the lowest id."""
    at_once = dict(zip(keys, objects, strict=True))
    if len(at_once) == len(objects) and None not in at_once:
        # every object ours, each under its own key (the usual inventory): the dict built
        # in C holds them in listing order, as the loop below would
        return cast(dict[Key, T], at_once), [], []
    owned: dict[Key, T] = {}
    unowned: list[T] = []
    duplicates: list[T] = []
    for obj, key in zip(objects, keys, strict=True):
        if key is None:
            unowned.append(obj)
            continue
        kept = owned.get(key)
        if kept is None:
            owned[key] = obj
            continue
        rank_new = (0 if prefer and prefer(key, obj) else 1, obj.id)
        rank_kept = (0 if prefer and prefer(key, kept) else 1, kept.id)
        if rank_new < rank_kept:
            owned[key] = obj
            duplicates.append(kept)
        else:
            duplicates.append(obj)
    duplicates.sort(key=lambda o: o.id)
    return owned, unowned, duplicates


def payload(desired: DesiredIntel | DesiredBlocklist) -> dict[str, Any]:
    """What apply writes: the rendered object, without the report-only fields."""
    return desired.model_dump(mode="json", exclude={"sources", "policies", "priority"})


def origins(desired: DesiredIntel | DesiredBlocklist) -> Origins:
    """The OpenCTI objects (not the `static:` names) and the policies behind `desired`."""
    objects = desired.sources
    for source in objects:  # rarely any: the tuple is then shared, not copied
        if source.startswith("static:"):
            objects = tuple(s for s in objects if not s.startswith("static:"))
            break
    return origins_of(objects, desired.policies)


def create_item(kind: Kind, desired: DesiredIntel | DesiredBlocklist) -> PlanItem:
    return PlanItem(
        action="create",
        kind=kind,
        key=desired.key,
        reason=Reason.NEW,
        name=desired.name,
        desired=payload(desired),
        origins=origins(desired),
    )


def noop_item(
    kind: Kind,
    want: DesiredIntel | DesiredBlocklist,
    tanium_id: int,
    reason: Reason = Reason.IN_SYNC,
) -> PlanItem:
    """Nothing to do for an owned object: in sync, or kept as it is for `reason`."""
    objects = want.sources
    for source in objects:  # as `origins` does
        if source.startswith("static:"):
            objects = tuple(s for s in objects if not s.startswith("static:"))
            break
    return noop_of(kind, want.key, reason, want.name, tanium_id, objects, want.policies)


def delete_item(key: str, kind: Kind, tanium_id: int, name: str, reason: Reason | None) -> PlanItem:
    """`key` is the desired key, or a `CopyKey` for one copy of it; no reason: out of scope."""
    return PlanItem(
        action="delete",
        kind=kind,
        key=key,
        reason=reason or Reason.OUT_OF_SCOPE,
        name=name,
        tanium_id=tanium_id,
    )


def conflict(out: DiffResult, key: Key, name: str, why: str) -> None:
    """Report a desired item whose place in Tanium is held by an object octi-tanium does not
    own: skipped (never taken over nor overwritten), with a warning saying what to do."""
    out.skipped.append(Skipped(key=key, reason=Reason.CONFLICT, name=name, detail=why))
    out.diagnostics.append(Diagnostic.warning(why, key=key))


def change_reason(recorded: str, digest: str) -> Reason:
    """Why an owned object's content differs from the desired one, from the marker in its
    description or notes (`recorded`): the marker's digest is the desired one, so somebody
    edited it in Tanium (`drift`); or the content changed at the source (`changed`)."""
    marker = parse_marker(recorded)
    return Reason.DRIFT if marker is not None and marker.digest == digest else Reason.CHANGED
