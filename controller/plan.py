"""The plan: a versioned, plain-data document. Text, Markdown and JSON all render from it.

Every item has an action and a reason; skipped objects are in the plan with their reason,
so "why didn't my indicator sync?" is answered by `plan` itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from controller.diagnostics import Diagnostic
from controller.model import ActualState

FORMAT_VERSION = "1.0"

Action = Literal["create", "update", "delete", "no-op"]
Kind = Literal["intel", "blocklist", "label", "deploy", "scan"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Change(_Value):
    field: str
    before: Any = None
    after: Any = None


class PlanItem(_Value):
    action: Action
    kind: Kind
    key: str
    reason: str
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


class Skipped(_Value):
    key: str
    reason: str
    name: str = ""
    detail: str = ""


class Guard(_Value):
    name: str
    ok: bool
    detail: str


class Summary(_Value):
    create: int = 0
    update: int = 0
    delete: int = 0
    no_op: int = 0
    blocked: int = 0


class Inputs(_Value):
    policy_revision: str = ""
    query_hash: str = ""
    snapshot_time: datetime | None = None
    inventory_fingerprint: str = ""
    source_name: str = ""
    source: str = ""


class Plan(_Value):
    format_version: str = FORMAT_VERSION
    created_at: datetime | None = None
    inputs: Inputs = Inputs()
    summary: Summary = Summary()
    guards: tuple[Guard, ...] = ()
    items: tuple[PlanItem, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    unowned: int = 0
    """Documents/entries in the managed source without a valid marker (never touched)."""

    @property
    def changes(self) -> list[PlanItem]:
        return [i for i in self.items if i.action != "no-op" and not i.blocked]

    @property
    def has_changes(self) -> bool:
        return any(i.action != "no-op" and not i.blocked for i in self.items)

    @property
    def has_blocked(self) -> bool:
        return any(i.blocked for i in self.items)

    @property
    def guards_ok(self) -> bool:
        return all(g.ok for g in self.guards)

    def exit_code(self) -> int:
        """`--detailed-exitcode`: 0 no changes, 2 changes, 3 changes blocked by a guard."""
        if self.has_blocked:
            return 3
        return 2 if self.has_changes else 0


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
        create=counts["create"], update=counts["update"], delete=counts["delete"],
        no_op=counts["no-op"], blocked=counts["blocked"],
    )


def inventory_fingerprint(actual: ActualState) -> str:
    """A digest of what Tanium holds that the plan depends on (the stale-plan check)."""
    digest = hashlib.sha256()
    digest.update(f"source={actual.source_id}\n".encode())
    for doc in sorted(actual.intel, key=lambda d: d.id):
        labels = ",".join(str(i) for i in sorted(doc.label_ids))
        digest.update(f"i {doc.id} {doc.md5} {doc.revision_id} {labels} {doc.description}\n".encode())
    for label in sorted(actual.labels, key=lambda lb: lb.id):
        digest.update(f"l {label.id} {label.name}\n".encode())
    for entry in sorted(actual.blocklist, key=lambda e: e.id):
        digest.update(f"b {entry.id} {entry.md5} {entry.sha1} {entry.sha256} {entry.notes}\n".encode())
    return digest.hexdigest()[:32]


class PlanFileError(Exception):
    pass


def save_plan(plan: Plan, path: Path) -> None:
    path.write_text(to_json(plan), encoding="utf-8")


def to_json(plan: Plan) -> str:
    return json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def load_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError(f"cannot read plan {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path}:{exc.lineno}:{exc.colno}: not a plan file: {exc.msg}") from exc
    version = data.get("format_version") if isinstance(data, dict) else None
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"{path}: plan format_version {version!r} is not supported (expected "
            f"{FORMAT_VERSION!r}); make the plan again with this version of octi-tanium"
        )
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{path}: invalid plan at {where}: {first['msg']}") from exc
