"""The plan: a versioned, plain-data document. Text, Markdown and JSON all render from it.

Every item has an action and a reason; skipped objects are in the plan with their reason,
so "why didn't my indicator sync?" is answered by `plan` itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, TypeAdapter, WithJsonSchema

from controller.core.diagnostics import Diagnostic
from controller.core.foreign import Unowned
from controller.core.model import ActualBlocklist, ActualIntel, ActualState, Key, TaniumId
from controller.core.reasons import Reason

FORMAT_VERSION = "1.1"
"""1.1 added `items[].origins`. A plan file of an earlier minor version of the same major
loads (its items have no origins)."""
READABLE_VERSIONS = ("1.0", FORMAT_VERSION)

Action = Literal["create", "update", "delete", "no-op"]
Kind = Literal["intel", "blocklist", "label", "deploy", "scan", "pivot"]
ReasonField = Annotated[
    Reason,
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"title": "Reason", "type": "string"}),
]
"""A `Reason` in the value; its string in the JSON, whose schema says `string` as it always
has (a plan file with a reason outside the closed set is refused on load)."""


# Plain slotted dataclasses: the plan of 100,000 objects is built in a few hundred
# milliseconds; pydantic validates it once, at the edges (load, dump, schema), through
# `PLAN_ADAPTER`. Values are never mutated after construction (`dataclasses.replace` makes a
# changed copy); `PlanItem`, built 100,000 times a pass, is not `frozen` only because a frozen
# dataclass's `__init__` costs three times as much.
_VALUE = {"frozen": True, "slots": True, "kw_only": True}
_HOT = {"slots": True, "kw_only": True}


class CopyKey(str):
    """The key of a plan item that acts on one particular copy of an owned key (a surplus
    `duplicate`, the old document of a `replaced` one): the desired key and the copy's Tanium
    id as typed parts. Its string value, `<key>#<tanium id>`, is what the plan's JSON shows and
    keeps item keys unique; code reads `.key` and `.tanium_id`, never the string."""

    SEPARATOR = "#"
    key: Key
    tanium_id: TaniumId

    def __new__(cls, key: Key, tanium_id: TaniumId) -> CopyKey:
        self = super().__new__(cls, f"{key}{cls.SEPARATOR}{tanium_id}")
        self.key, self.tanium_id = key, tanium_id
        return self

    def __reduce__(self) -> tuple[type[CopyKey], tuple[Key, TaniumId]]:
        return CopyKey, (self.key, self.tanium_id)


@dataclass(**_VALUE)
class Change:
    field: str
    before: Any = None
    after: Any = None


@dataclass(**_VALUE)
class Origins:
    """Where a desired item came from: the OpenCTI standard ids of the indicators and
    observables that rendered to it, and the names of the policies that selected it (both
    sorted, unique). Recomputed from the source every pass, never stored in Tanium."""

    objects: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()


_new = object.__new__
_set_objects = Origins.__dict__["objects"].__set__
_set_policies = Origins.__dict__["policies"].__set__


def origins_of(objects: tuple[str, ...], policies: tuple[str, ...]) -> Origins:
    """`Origins(objects=objects, policies=policies)`, made 125,000 times a pass for half the
    cost: a frozen dataclass's `__init__` stores each field through `object.__setattr__`,
    which looks the name up again; this stores through the slots' own descriptors
    (`tests/unit/test_diff_fast.py` compares the two)."""
    made: Origins = _new(Origins)
    _set_objects(made, objects)
    _set_policies(made, policies)
    return made


@dataclass(**_HOT)
class PlanItem:
    action: Action
    kind: Kind
    key: str
    reason: ReasonField
    name: str = ""
    changes: tuple[Change, ...] = ()
    tanium_id: int | None = None
    blocked: bool = False
    """A safety guard withheld this item; apply skips it."""
    guard: str | None = None
    desired: dict[str, Any] | None = None
    """What apply writes (the rendered document or entry)."""
    before: dict[str, Any] | None = None
    """What apply expects to find (md5, revision, labels) — checked before each write."""
    origins: Origins | None = None
    """The OpenCTI objects and policies behind a desired item (none: a delete, a label, a
    deploy, or a plan of format 1.0)."""

    @property
    def subject(self) -> str:
        """The key of the desired item this item acts for (a copy's key without its id)."""
        key = self.key
        return key.key if isinstance(key, CopyKey) else key


def noop_of(
    kind: Kind,
    key: str,
    reason: Reason,
    name: str,
    tanium_id: int,
    objects: tuple[str, ...],
    policies: tuple[str, ...],
) -> PlanItem:
    """`PlanItem(action="no-op", kind=kind, key=key, reason=reason, name=name,
    tanium_id=tanium_id, origins=Origins(objects=objects, policies=policies))`, made 125,000
    times a pass for a third of the cost: positional arguments, no `type.__call__` nor
    keyword matching, the slots stored directly (every field: a slot never stored is an
    `AttributeError` on read). `tests/unit/test_diff_fast.py` compares the two."""
    origins: Origins = _new(Origins)
    _set_objects(origins, objects)
    _set_policies(origins, policies)
    item: PlanItem = _new(PlanItem)
    item.action = "no-op"
    item.kind = kind
    item.key = key
    item.reason = reason
    item.name = name
    item.changes = ()
    item.tanium_id = tanium_id
    item.blocked = False
    item.guard = None
    item.desired = None
    item.before = None
    item.origins = origins
    return item


@dataclass(**_VALUE)
class Skipped:
    key: str
    reason: ReasonField
    name: str = ""
    detail: str = ""


@dataclass(**_VALUE)
class Guard:
    name: str
    ok: bool
    detail: str


@dataclass(**_VALUE)
class Summary:
    create: int = 0
    update: int = 0
    delete: int = 0
    no_op: int = 0
    blocked: int = 0


@dataclass(**_VALUE)
class Inputs:
    policy_revision: str = ""
    query_hash: str = ""
    snapshot_time: datetime | None = None
    inventory_fingerprint: str = ""
    source_name: str = ""
    source: str = ""
    tanium_url: str = ""
    """The Tanium the plan was made for, without credentials ("" in plans made before 1.0
    plans recorded it)."""
    snapshot_taken_at: datetime | None = None
    """Set when the plan was made against a snapshot of Tanium (`plan --actual snapshot:FILE`)
    rather than the live inventory: when the snapshot was taken."""
    openioc_terms: str = ""
    """The tenant's OpenIOC terms the documents were rendered with (`renderer=tenant;…`,
    learned from its quick-add); empty: the renderer's own terms."""


@dataclass(**_VALUE, repr=False)
class Plan:
    format_version: str = FORMAT_VERSION
    created_at: datetime | None = None
    inputs: Inputs = field(default_factory=Inputs)
    summary: Summary = field(default_factory=Summary)
    guards: tuple[Guard, ...] = ()
    items: tuple[PlanItem, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    unowned: int = 0
    """Documents/entries in the managed source without a valid marker (never touched)."""
    unowned_objects: tuple[Unowned, ...] = ()
    """Each of them: kind, Tanium id, name, why it is not ours (set by the driver)."""

    def __repr__(self) -> str:  # the default would print every item
        return f"Plan({self.summary}, {len(self.items)} items, {len(self.skipped)} skipped)"

    @property
    def changes(self) -> list[PlanItem]:
        return [i for i in self.items if i.action != "no-op" and not i.blocked]

    @property
    def has_changes(self) -> bool:
        return any(i.action != "no-op" and not i.blocked for i in self.items)

    @property
    def has_blocked(self) -> bool:
        return any(i.blocked for i in self.items)

    def exit_code(self) -> int:
        """`--detailed-exitcode`: 0 no changes, 2 changes, 3 changes blocked by a guard."""
        if self.has_blocked:
            return 3
        return 2 if self.has_changes else 0


PLAN_ADAPTER: TypeAdapter[Plan] = TypeAdapter(Plan)


def with_copy_keys(plan: Plan) -> Plan:
    """`plan` with the key of each delete that names a copy (its JSON string ends with
    `#<its own tanium_id>`) typed as a `CopyKey` again: the one place a plan loaded from JSON
    gets its typed keys back."""
    items = []
    for item in plan.items:
        tail = f"{CopyKey.SEPARATOR}{item.tanium_id}"
        if (
            item.action == "delete"
            and item.tanium_id is not None
            and not isinstance(item.key, CopyKey)
            and item.key.endswith(tail)
            and len(item.key) > len(tail)
        ):
            base = Key(item.key[: -len(tail)])
            item = replace(item, key=CopyKey(base, TaniumId(item.tanium_id)))
        items.append(item)
    return replace(plan, items=tuple(items))


def summarize(items: Iterable[PlanItem]) -> Summary:
    counts = {"create": 0, "update": 0, "delete": 0, "no-op": 0, "blocked": 0}
    for item in items:
        if item.kind not in ("intel", "blocklist"):
            continue
        if item.blocked:
            counts["blocked"] += 1
        else:
            counts[item.action] += 1
    return Summary(
        create=counts["create"],
        update=counts["update"],
        delete=counts["delete"],
        no_op=counts["no-op"],
        blocked=counts["blocked"],
    )


def inventory_fingerprint(actual: ActualState) -> str:
    """A digest of what Tanium holds that the plan depends on (the stale-plan check).

    Intel: id, md5, revision (any change of content, name or description bumps it) and labels
    (which do not); labels; blocklist entries in full (they have no revision).
    """
    return fingerprint_of(
        actual,
        _intel_lines(sorted(actual.intel, key=_ID)),
        map(entry_line, sorted(actual.blocklist, key=_ID)),
    )


_ID = attrgetter("id")


def _intel_lines(docs: Iterable[ActualIntel]) -> list[str]:
    """`intel_line` of each document, with each distinct label tuple written out once (a few
    dozen per inventory, 100,000 documents per pass; `tests/unit/test_diff_fast.py`
    compares the two)."""
    shown: dict[tuple[TaniumId, ...], str] = {}
    lines: list[str] = []
    append = lines.append
    for doc in docs:
        label_ids = doc.label_ids
        text = shown.get(label_ids)
        if text is None:
            text = shown[label_ids] = f"{label_ids}"
        append(f"i {doc.id} {doc.md5} {doc.revision_id} {text}")
    return lines


def intel_line(doc: ActualIntel) -> str:
    """One document's line of the inventory fingerprint."""
    return f"i {doc.id} {doc.md5} {doc.revision_id} {doc.label_ids}"


def entry_line(entry: ActualBlocklist) -> str:
    """One blocklist entry's line of the inventory fingerprint."""
    return f"b {entry.id} {entry.list} {entry.md5} {entry.sha1} {entry.sha256} {entry.notes}"


def fingerprint_of(actual: ActualState, intel: Iterable[str], entries: Iterable[str]) -> str:
    """The fingerprint from the lines of `actual`'s documents and entries, each in id order
    (`intel_line`, `entry_line`): a caller that kept the lines of unchanged objects from an
    earlier pass (`controller.core.diff.memo`) formats only the ones that moved."""
    lines = [f"source={actual.source_id}", *intel]
    lines.extend(f"l {lb.id} {lb.name}" for lb in sorted(actual.labels, key=lambda lb: lb.id))
    lines.extend(entries)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def to_json(plan: Plan) -> str:
    return (
        json.dumps(PLAN_ADAPTER.dump_python(plan, mode="json"), indent=2, ensure_ascii=False) + "\n"
    )
