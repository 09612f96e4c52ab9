"""Execute a Plan against Tanium.

Order: labels → creates/updates (bounded concurrency) → deletes → one Intel DB deploy →
quick-scans. Deletes come after every create and update, so a failure half-way never leaves
less protection than before; the single deploy comes after the deletes so that removed intel
also leaves the endpoints in the same pass (whether Tanium drops deleted documents without a
deploy is not documented). Every write re-checks that the object still matches the plan's
"before"; a saved plan applies only if the inventory has not moved since it was made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from controller.core.guards import counted_deletes, within_budget
from controller.core.labels import label_key
from controller.core.model import (
    ActualIntel,
    ActualLabel,
    ActualState,
    DesiredBlocklist,
    DesiredIntel,
    TaniumId,
)
from controller.core.plan import Plan, PlanItem, inventory_fingerprint
from controller.policy.models import SettingsSpec
from controller.render.marker import installation_id, owned_blocklist_key, owned_intel_key

SOURCE_DESCRIPTION = (
    "Cyber threat intelligence from OpenCTI, managed by octi-tanium. Documents here are "
    "reconciled automatically: edit the policies in Git, not the documents."
)

Status = Literal["ok", "failed", "blocked", "skipped"]


class TaniumWriter(Protocol):
    """The part of the Tanium client the executor uses."""

    async def read_state(self, source_name: str) -> ActualState: ...
    async def ensure_source(self, name: str, description: str) -> TaniumId: ...
    async def get_intel(self, intel_id: TaniumId) -> ActualIntel: ...
    async def create_intel(self, source_id: TaniumId, doc: DesiredIntel) -> ActualIntel: ...
    async def update_intel(
        self, intel_id: TaniumId, doc: DesiredIntel, intrinsic_id: str | None
    ) -> ActualIntel: ...
    async def delete_intel(self, intel_id: TaniumId) -> bool: ...
    async def create_label(self, name: str, description: str) -> ActualLabel: ...
    async def find_label(self, name: str) -> ActualLabel | None: ...
    async def attach_label(self, intel_id: TaniumId, label_id: TaniumId) -> Any: ...
    async def detach_label(self, intel_id: TaniumId, label_id: TaniumId) -> Any: ...
    async def deploy(self) -> int: ...
    async def group_id_by_name(self, name: str) -> TaniumId | None: ...
    async def scan(self, group_id: TaniumId, intel_id: TaniumId) -> Any: ...
    async def blocklist_add(self, entries: Sequence[DesiredBlocklist]) -> Any: ...
    async def blocklist_remove(self, entry_id: TaniumId) -> bool: ...


def _temporary(exc: BaseException) -> bool:
    """Whether the same write may succeed later (unknown errors count as temporary)."""
    return bool(getattr(exc, "temporary", True))


class StalePlanError(Exception):
    """The inventory moved since the plan was made."""


class FatalApplyError(Exception):
    """An error that stops the whole apply (authentication, permission)."""


@dataclass(frozen=True)
class ItemResult:
    item: PlanItem
    status: Status
    message: str = ""
    tanium_id: int | None = None
    temporary: bool = False
    """For a failure: whether the same write may succeed later (Tanium unavailable, 429)."""


@dataclass
class ApplyReport:
    results: list[ItemResult] = field(default_factory=list)

    def count(self, status: Status, action: str | None = None) -> int:
        return sum(
            1
            for r in self.results
            if r.status == status
            and (action is None or r.item.action == action)
            and r.item.kind in ("intel", "blocklist")
        )

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "failed"]

    def exit_code(self) -> int:
        if self.failed:
            return 1
        if any(r.status == "blocked" for r in self.results):
            return 3
        return 0


Progress = Callable[[int], None]


def check_not_stale(plan: Plan, actual: ActualState) -> None:
    current = inventory_fingerprint(actual)
    if not plan.inputs.inventory_fingerprint:
        raise StalePlanError(
            "the plan carries no inventory fingerprint, so it cannot be checked against "
            "Tanium: make it with `octi-tanium plan --out`"
        )
    if current != plan.inputs.inventory_fingerprint:
        raise StalePlanError(
            "the plan is stale: Tanium's inventory changed since it was made "
            f"(fingerprint {plan.inputs.inventory_fingerprint[:12]} → {current[:12]}); "
            "run `octi-tanium plan` again"
        )


class Executor:
    def __init__(
        self,
        client: TaniumWriter,
        actual: ActualState,
        *,
        concurrency: int = 8,
        progress: Progress | None = None,
        is_fatal: Callable[[BaseException], bool] = lambda exc: False,
        settings: SettingsSpec | None = None,
    ) -> None:
        self.client = client
        self.actual = actual
        self.semaphore = asyncio.Semaphore(concurrency)
        self.progress = progress or (lambda n: None)
        self.is_fatal = is_fatal
        self.settings = settings
        self.labels: dict[str, TaniumId] = {label_key(lb.name): lb.id for lb in actual.labels}
        self.intel_ids: dict[str, TaniumId] = {}
        self.source_id: TaniumId | None = actual.source_id
        self.content_written = False
        self.intel_by_id = {d.id: d for d in actual.intel}
        self._entries: dict[TaniumId, str] | None = None
        self.report = ApplyReport()

    async def run(self, plan: Plan) -> ApplyReport:
        items = [i for i in plan.items if i.action != "no-op"]
        withheld = self._withheld(plan, items)
        for item in items:
            if item.blocked or (item.action == "delete" and withheld):
                self._done(item, "blocked", f"withheld by guard {item.guard or withheld}")
        todo = [i for i in items if not i.blocked and not (i.action == "delete" and withheld)]
        by_kind = {k: [i for i in todo if i.kind == k] for k in ("label", "intel", "blocklist")}
        await self._each(by_kind["label"], self._label)
        intel_writes = [i for i in by_kind["intel"] if i.action in ("create", "update")]
        if any(i.action == "create" for i in intel_writes) and self.source_id is None:
            try:
                self.source_id = await self._guarded(
                    partial(self.client.ensure_source, plan.inputs.source_name, SOURCE_DESCRIPTION)
                )
            except FatalApplyError:
                raise
            except Exception as exc:
                for item in intel_writes:
                    self._done(
                        item,
                        "failed",
                        f"the managed source could not be created: {exc}",
                        temporary=_temporary(exc),
                    )
                intel_writes = []
        await self._each(intel_writes, self._intel_write)
        await self._blocklist_writes([i for i in by_kind["blocklist"] if i.action != "delete"])
        deletes = self._deletes_now([i for i in todo if i.action == "delete"])
        await self._each(deletes, self._delete)
        deleted_intel = any(
            r.status == "ok" and r.item.kind == "intel" and r.item.action == "delete"
            for r in self.report.results
        )
        for item in (i for i in todo if i.kind == "deploy"):
            if self.content_written or deleted_intel or item.reason == "undeployed":
                await self._one(item, self._deploy)
            else:
                self._done(item, "skipped", "no intel document was written")
        await self._scans([i for i in todo if i.kind == "scan"])
        return self.report

    def _deletes_now(self, deletes: list[PlanItem]) -> list[PlanItem]:
        """Deletes go last, and not at all where a write they depend on failed: after a
        temporary failure (Tanium unavailable) every delete waits for the next pass; after a
        permanent rejection only the replaced document's delete waits (others must not be
        held hostage forever by one bad item)."""
        failed = self.report.failed
        if not failed:
            return deletes
        if any(r.temporary for r in failed):
            why = f"{len(failed)} write(s) of this pass failed temporarily; the next pass retries"
            held = deletes
        else:
            keys = {r.item.key for r in failed}
            why = "its replacement was rejected; fix the new content first"
            held = [d for d in deletes if d.key.split("#", 1)[0] in keys]
        for item in held:
            self._done(item, "skipped", f"withheld: {why}")
        held_ids = {id(d) for d in held}
        return [d for d in deletes if id(d) not in held_ids]

    def _withheld(self, plan: Plan, items: list[PlanItem]) -> str | None:
        """Re-check the guards at apply time: a saved plan is a file, and files can be edited."""
        failing = [g.name for g in plan.guards if not g.ok]
        if failing:
            return ", ".join(failing)
        if self.settings is not None:
            owned = sum(1 for d in self.actual.intel if owned_intel_key(d) is not None)
            owned += len(self._owned_entries())
            if not within_budget(counted_deletes(items), owned, self.settings):
                return "deletion-budget (re-checked at apply)"
        return None

    def _owned_entries(self) -> dict[TaniumId, str]:
        if self._entries is None:
            installation = installation_id(self.actual.source_name)
            self._entries = {}
            for entry in self.actual.blocklist:
                key = owned_blocklist_key(entry, installation)
                if key is not None:
                    self._entries[entry.id] = key
        return self._entries

    def _check_owned(self, item: PlanItem) -> str | None:
        """Why `item` must not touch its Tanium object (None: it is ours, under that key)."""
        base = item.key.split("#", 1)[0]
        if item.kind == "blocklist" and item.before and item.before.get("key"):
            base = str(item.before["key"])  # updated in place under its previous key
        if item.kind == "intel":
            doc = self.intel_by_id.get(TaniumId(item.tanium_id or 0))
            if doc is not None and owned_intel_key(doc) == base:
                return None
        elif self._owned_entries().get(TaniumId(item.tanium_id or 0)) == base:
            return None
        return (
            f"Tanium object {item.tanium_id} is not an octi-tanium object with key {base} in "
            "the managed source: refusing to touch it"
        )

    # ------------------------------------------------------------------ plumbing

    async def _guarded(self, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await call()
        except Exception as exc:
            if self.is_fatal(exc):
                raise FatalApplyError(str(exc)) from exc
            raise

    async def _each(
        self, items: list[PlanItem], handler: Callable[[PlanItem], Awaitable[ItemResult]]
    ) -> None:
        await asyncio.gather(*(self._one(item, handler) for item in items))

    async def _one(
        self, item: PlanItem, handler: Callable[[PlanItem], Awaitable[ItemResult]]
    ) -> None:
        async with self.semaphore:
            try:
                result = await handler(item)
            except Exception as exc:
                if self.is_fatal(exc):
                    raise FatalApplyError(str(exc)) from exc
                result = ItemResult(item, "failed", str(exc), temporary=_temporary(exc))
        self.report.results.append(result)
        self.progress(1)

    def _done(
        self, item: PlanItem, status: Status, message: str = "", *, temporary: bool = False
    ) -> None:
        self.report.results.append(ItemResult(item, status, message, temporary=temporary))
        self.progress(1)

    # ------------------------------------------------------------------ handlers

    async def _label(self, item: PlanItem) -> ItemResult:
        name = item.name
        if label_key(name) in self.labels:
            return ItemResult(item, "ok", "already present")
        try:
            label = await self.client.create_label(name, "Label managed by octi-tanium")
        except Exception as exc:
            if self.is_fatal(exc):
                raise
            found = await self.client.find_label(name)
            if found is None:
                raise
            label = found
        self.labels[label_key(name)] = label.id
        return ItemResult(item, "ok", tanium_id=label.id)

    async def _intel_write(self, item: PlanItem) -> ItemResult:
        assert item.desired is not None
        doc = DesiredIntel.model_validate(item.desired)
        if item.action == "create":
            assert self.source_id is not None
            created = await self.client.create_intel(self.source_id, doc)
            self.content_written = True
            self.intel_ids[item.key] = created.id
            await self._sync_labels(created.id, (), doc.labels)
            return ItemResult(item, "ok", tanium_id=created.id)
        assert item.tanium_id is not None
        refused = self._check_owned(item)
        if refused:
            return ItemResult(item, "failed", refused)
        intel_id = TaniumId(item.tanium_id)
        current = await self.client.get_intel(intel_id)
        before = item.before or {}
        if before and (
            current.md5 != before.get("md5") or current.revision_id != before.get("revision_id")
        ):
            return ItemResult(
                item,
                "failed",
                f"document {intel_id} changed in Tanium since the plan was made "
                f"(revision {before.get('revision_id')} → {current.revision_id}); "
                "run `octi-tanium plan` again",
            )
        if item.reason != "labels":
            updated = await self.client.update_intel(intel_id, doc, current.intrinsic_id)
            if updated.id != intel_id:
                return ItemResult(
                    item,
                    "failed",
                    f"Tanium made a new document {updated.id} instead of updating {intel_id}",
                )
            current, self.content_written = updated, True
        self.intel_ids[item.key] = current.id
        await self._sync_labels(current.id, current.label_ids, doc.labels)
        return ItemResult(item, "ok", tanium_id=current.id)

    async def _sync_labels(
        self, intel_id: TaniumId, have: Sequence[TaniumId], want: Sequence[str]
    ) -> None:
        want_ids = {self.labels[label_key(n)] for n in want if label_key(n) in self.labels}
        missing = [n for n in want if label_key(n) not in self.labels]
        if missing:
            raise RuntimeError(f"labels {missing} could not be created; see the label items")
        for label_id in sorted(want_ids - set(have)):
            await self.client.attach_label(intel_id, label_id)
        for label_id in sorted(set(have) - want_ids):
            await self.client.detach_label(intel_id, label_id)

    async def _delete(self, item: PlanItem) -> ItemResult:
        assert item.tanium_id is not None
        refused = self._check_owned(item)
        if refused:
            return ItemResult(item, "failed", refused)
        remove = self.client.delete_intel if item.kind == "intel" else self.client.blocklist_remove
        await remove(TaniumId(item.tanium_id))
        return ItemResult(item, "ok", tanium_id=item.tanium_id)

    async def _blocklist_writes(self, items: list[PlanItem]) -> None:
        """Entries to update are removed first — whether Reputation merges an upload into an
        entry sharing a hash or appends a new one is not documented — then one batched upload."""
        if not items:
            return
        ready: list[PlanItem] = []
        owned = self._owned_entries()
        foreign = {
            h.lower(): e
            for e in self.actual.blocklist
            if e.id not in owned
            for h in (e.md5, e.sha1, e.sha256)
            if h
        }
        for item in items:
            refused = self._check_owned(item) if item.action == "update" else None
            clash = next(
                (
                    foreign[h]
                    for k in ("md5", "sha1", "sha256")
                    if (h := str((item.desired or {}).get(k) or "")) and h in foreign
                ),
                None,
            )
            if clash is not None:  # the upload would merge into somebody else's entry
                refused = (
                    f"a hash is held by Reputation entry {clash.id} ({clash.list}), not created "
                    "by octi-tanium: refusing to upload into it"
                )
            if refused:
                self._done(item, "failed", refused)
                continue
            if item.action == "update":  # Reputation may merge or append uploads: replace
                try:
                    await self._guarded(
                        partial(self.client.blocklist_remove, TaniumId(item.tanium_id or 0))
                    )
                except FatalApplyError:
                    raise
                except Exception as exc:
                    self._done(
                        item,
                        "failed",
                        f"could not remove the entry to replace: {exc}",
                        temporary=_temporary(exc),
                    )
                    continue
            ready.append(item)
        entries = [DesiredBlocklist.model_validate(i.desired) for i in ready]
        try:
            await self._guarded(partial(self.client.blocklist_add, entries))
        except FatalApplyError:
            raise
        except Exception as exc:
            for item in ready:
                self._done(item, "failed", str(exc), temporary=_temporary(exc))
            return
        for item in ready:
            self._done(item, "ok")

    async def _deploy(self, item: PlanItem) -> ItemResult:
        task = await self.client.deploy()
        return ItemResult(item, "ok", f"deploy task {task}")

    async def _scans(self, items: list[PlanItem]) -> None:
        groups: dict[str, TaniumId | None] = {}
        for item in items:
            desired = item.desired or {}
            group = str(desired.get("group", ""))
            intel_id = self.intel_ids.get(str(desired.get("intel_key", "")))
            if intel_id is None:
                self._done(item, "skipped", "its intel document was not written")
                continue
            if group not in groups:
                try:
                    groups[group] = await self._guarded(
                        partial(self.client.group_id_by_name, group)
                    )
                except FatalApplyError:
                    raise
                except Exception as exc:
                    self._done(item, "failed", f"computer group {group!r} lookup failed: {exc}")
                    continue
            group_id = groups[group]
            if group_id is None:
                self._done(item, "failed", f"computer group {group!r} does not exist in Tanium")
                continue

            async def scan(
                _: PlanItem, g: TaniumId = group_id, d: TaniumId = intel_id
            ) -> ItemResult:
                await self.client.scan(g, d)
                return ItemResult(_, "ok")

            await self._one(item, scan)
