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

from controller.labels import label_key
from controller.model import (
    ActualIntel,
    ActualLabel,
    ActualState,
    DesiredBlocklist,
    DesiredIntel,
    TaniumId,
)
from controller.plan import Plan, PlanItem, inventory_fingerprint

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
    async def delete_intel(self, intel_id: TaniumId) -> None: ...
    async def create_label(self, name: str, description: str) -> ActualLabel: ...
    async def find_label(self, name: str) -> ActualLabel | None: ...
    async def attach_label(self, intel_id: TaniumId, label_id: TaniumId) -> Any: ...
    async def detach_label(self, intel_id: TaniumId, label_id: TaniumId) -> Any: ...
    async def deploy(self) -> int: ...
    async def group_id_by_name(self, name: str) -> TaniumId | None: ...
    async def scan(self, group_id: TaniumId, intel_id: TaniumId) -> Any: ...
    async def blocklist_add(self, entries: Sequence[DesiredBlocklist]) -> Any: ...
    async def blocklist_remove(self, entry_id: TaniumId) -> None: ...


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
    if plan.inputs.inventory_fingerprint and current != plan.inputs.inventory_fingerprint:
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
    ) -> None:
        self.client = client
        self.actual = actual
        self.semaphore = asyncio.Semaphore(concurrency)
        self.progress = progress or (lambda n: None)
        self.is_fatal = is_fatal
        self.labels: dict[str, TaniumId] = {label_key(lb.name): lb.id for lb in actual.labels}
        self.intel_ids: dict[str, TaniumId] = {}
        self.source_id: TaniumId | None = actual.source_id
        self.report = ApplyReport()

    async def run(self, plan: Plan) -> ApplyReport:
        items = [i for i in plan.items if i.action != "no-op"]
        for item in items:
            if item.blocked:
                self._done(item, "blocked", f"withheld by guard {item.guard}")
        todo = [i for i in items if not i.blocked]
        by_kind = {k: [i for i in todo if i.kind == k] for k in ("label", "intel", "blocklist")}
        await self._each([i for i in by_kind["label"]], self._label)
        intel_writes = [i for i in by_kind["intel"] if i.action in ("create", "update")]
        if any(i.action == "create" for i in intel_writes) and self.source_id is None:
            self.source_id = await self._guarded(
                lambda: self.client.ensure_source(plan.inputs.source_name, SOURCE_DESCRIPTION)
            )
        await self._each(intel_writes, self._intel_write)
        await self._blocklist_writes([i for i in by_kind["blocklist"] if i.action != "delete"])
        await self._each([i for i in by_kind["intel"] if i.action == "delete"], self._intel_delete)
        await self._each(
            [i for i in by_kind["blocklist"] if i.action == "delete"], self._entry_delete
        )
        wrote_intel = any(
            r.status == "ok" and r.item.kind == "intel" and r.item.reason != "labels"
            for r in self.report.results
        )
        for item in (i for i in todo if i.kind == "deploy"):
            if wrote_intel:
                await self._one(item, self._deploy)
            else:
                self._done(item, "skipped", "no intel document was written")
        await self._scans([i for i in todo if i.kind == "scan"])
        return self.report

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
                result = ItemResult(item, "failed", str(exc))
        self.report.results.append(result)
        self.progress(1)

    def _done(self, item: PlanItem, status: Status, message: str = "") -> None:
        self.report.results.append(ItemResult(item, status, message))
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
            self.intel_ids[item.key] = created.id
            await self._sync_labels(created.id, (), doc.labels)
            return ItemResult(item, "ok", tanium_id=created.id)
        assert item.tanium_id is not None
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
            current = await self.client.update_intel(intel_id, doc, current.intrinsic_id)
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

    async def _intel_delete(self, item: PlanItem) -> ItemResult:
        assert item.tanium_id is not None
        await self.client.delete_intel(TaniumId(item.tanium_id))
        return ItemResult(item, "ok", tanium_id=item.tanium_id)

    async def _entry_delete(self, item: PlanItem) -> ItemResult:
        assert item.tanium_id is not None
        await self.client.blocklist_remove(TaniumId(item.tanium_id))
        return ItemResult(item, "ok", tanium_id=item.tanium_id)

    async def _blocklist_writes(self, items: list[PlanItem]) -> None:
        """Replace changed entries (remove, then re-add), then add all in one batched upload."""
        if not items:
            return
        ready: list[PlanItem] = []
        for item in items:
            if item.action == "update" and item.tanium_id is not None:
                try:
                    await self._guarded(
                        partial(self.client.blocklist_remove, TaniumId(item.tanium_id))
                    )
                except Exception as exc:
                    self._done(item, "failed", f"could not replace entry: {exc}")
                    continue
            ready.append(item)
        entries = [DesiredBlocklist.model_validate(i.desired) for i in ready]
        try:
            await self._guarded(lambda: self.client.blocklist_add(entries))
        except FatalApplyError:
            raise
        except Exception as exc:
            for item in ready:
                self._done(item, "failed", str(exc))
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
                groups[group] = await self._guarded(partial(self.client.group_id_by_name, group))
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
