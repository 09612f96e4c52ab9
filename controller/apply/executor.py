"""Execute a Plan against Tanium: the phase order, and one way to attempt a write.

Order: labels → creates/updates (bounded concurrency) → deletes → one Intel DB deploy →
quick-scans. Deletes come after every create and update, so a failure half-way never leaves
less protection than before; the single deploy comes after the deletes so that removed intel
also leaves the endpoints in the same pass (whether Tanium drops deleted documents without a
deploy is not documented). Every write re-checks that the object still matches the plan's
"before" (`checks`); the per-kind work is in `labels`, `intel`, `blocklist` and `side_effects`.

There is no dry-run flag here: `plan` is the driver stopped before the executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from controller.apply import blocklist, intel, labels, side_effects
from controller.apply.checks import Ownership, withheld_by_guards
from controller.apply.report import ApplyReport, ItemResult, Status
from controller.core.labels import label_key
from controller.core.model import (
    ActualIntel,
    ActualLabel,
    ActualState,
    DesiredBlocklist,
    DesiredIntel,
    TaniumId,
)
from controller.core.plan import Plan, PlanItem
from controller.errors import ApplyStopped, RemoteError
from controller.policy.models import SettingsSpec

T = TypeVar("T")
Progress = Callable[[int], None]
Handler = Callable[[PlanItem], Awaitable[ItemResult]]
BATCH_PER_SLOT = 8
"""A write batch is up to `BATCH_PER_SLOT` x `concurrency` items."""


class Fence(Protocol):
    """What may stop an apply between writes (the writer lease, a graceful stop); raising
    stops the apply there, the item in flight having completed."""

    async def before_batch(self) -> None:
        """Before every write batch: may ask the lock store (the fencing check)."""
        ...

    def before_write(self) -> None:
        """Before every single write; no I/O (a writer paused past its lease stops here)."""
        ...


class TaniumWriter(Protocol):
    """The part of the Tanium client the executor uses."""

    async def ensure_source(self, name: str, description: str) -> TaniumId: ...
    async def get_intel(self, intel_id: TaniumId) -> ActualIntel: ...
    async def create_intel(self, source_id: TaniumId, doc: DesiredIntel) -> ActualIntel: ...
    async def update_intel(
        self, intel_id: TaniumId, doc: DesiredIntel, intrinsic_id: str | None
    ) -> ActualIntel: ...
    async def delete_intel(self, intel_id: TaniumId) -> bool: ...
    async def create_label(self, name: str, description: str) -> ActualLabel: ...
    async def attach_label(self, intel_id: TaniumId, label_id: TaniumId) -> None: ...
    async def attach_labels(self, intel_id: TaniumId, label_ids: Sequence[TaniumId]) -> None: ...
    async def detach_label(self, intel_id: TaniumId, label_id: TaniumId) -> None: ...
    async def deploy(self) -> int: ...
    async def group_id_by_name(self, name: str) -> TaniumId | None: ...
    async def scan(self, group_id: TaniumId, intel_id: TaniumId) -> int: ...
    async def blocklist_add(self, entries: Sequence[DesiredBlocklist]) -> int: ...
    async def blocklist_remove(self, entry_id: TaniumId, hashes: Sequence[str] = ()) -> bool: ...


class Executor:
    """One apply: the plan's items in phase order, each write attempted once (the client
    retries what is worth retrying), a report of every item."""

    def __init__(
        self,
        client: TaniumWriter,
        actual: ActualState,
        *,
        concurrency: int = 8,
        progress: Progress | None = None,
        settings: SettingsSpec | None = None,
        fence: Fence | None = None,
    ) -> None:
        self.client = client
        self.concurrency = concurrency
        self.fence = fence
        self.actual = actual
        self.semaphore = asyncio.Semaphore(concurrency)
        self.progress = progress or (lambda n: None)
        self.settings = settings
        self.ownership = Ownership(actual)
        self.labels: dict[str, TaniumId] = {label_key(lb.name): lb.id for lb in actual.labels}
        self.intel_ids: dict[str, TaniumId] = {}
        self.source_id: TaniumId | None = actual.source_id
        self.content_written = False
        self.report = ApplyReport()
        self.stored: dict[TaniumId, tuple[str, str]] = {}
        """Intel written this pass: id → (md5 Tanium reported, digest written), for the journal."""
        self.removed: set[TaniumId] = set()
        """Intel deleted this pass."""

    async def run(self, plan: Plan) -> ApplyReport:
        # pivot items are OpenCTI's: written after the executor (controller.writeback.pivot)
        items = [i for i in plan.items if i.action != "no-op" and i.kind != "pivot"]
        withheld = withheld_by_guards(plan, items, self.ownership, self.settings)
        for item in items:
            if item.blocked or (item.action == "delete" and withheld):
                self.done(item, "blocked", f"withheld by guard {item.guard or withheld}")
        todo = [i for i in items if not i.blocked and not (i.action == "delete" and withheld)]
        by_kind = {k: [i for i in todo if i.kind == k] for k in ("label", "intel", "blocklist")}
        await self.each(by_kind["label"], lambda item: labels.ensure(self, item))
        writes = [i for i in by_kind["intel"] if i.action in ("create", "update")]
        if writes:
            await self.batch()
        if not await intel.ensure_source(self, plan.inputs.source_name, writes):
            writes = []
        await self.each(writes, lambda item: intel.write(self, item))
        upserts = [i for i in by_kind["blocklist"] if i.action != "delete"]
        if upserts:
            await self.batch()
        await blocklist.write(self, upserts)
        deletes = self._deletes_now([i for i in todo if i.action == "delete"])
        await self.each(deletes, lambda item: intel.delete(self, item))
        effects = [i for i in todo if i.kind in ("deploy", "scan")]
        if effects:
            await self.batch()
        await side_effects.deploy(self, [i for i in effects if i.kind == "deploy"])
        await side_effects.scans(self, [i for i in effects if i.kind == "scan"])
        return self.report

    async def batch(self) -> None:
        """The next write batch is about to start: the fence may stop the apply here."""
        if self.fence is not None:
            await self.fence.before_batch()

    def entry_hashes(self, entry_id: TaniumId) -> tuple[str, ...]:
        """The hashes of a blocklist entry as read (strongest first), to verify its delete."""
        entry = next((e for e in self.actual.blocklist if e.id == entry_id), None)
        return tuple(h for h in (entry.sha256, entry.sha1, entry.md5) if h) if entry else ()

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
            held = [d for d in deletes if d.subject in keys]
        for item in held:
            self.done(item, "skipped", f"withheld: {why}")
        held_ids = {id(d) for d in held}
        return [d for d in deletes if id(d) not in held_ids]

    # ------------------------------------------------------------------ one way to attempt

    async def attempt(
        self, call: Callable[[], Awaitable[T]], items: Sequence[PlanItem], why: str = ""
    ) -> tuple[bool, T | None]:
        """`(True, result)`, or `(False, None)` after marking every item failed with
        `why` + the error. A fatal remote error (Tanium answered 401) stops the whole apply.
        An error that is not a `RemoteError` (a bug, an edited plan) fails the items as if it
        were temporary: fail closed, the pass's deletes wait."""
        try:
            return True, await call()
        except ApplyStopped:
            raise
        except RemoteError as exc:
            if exc.fatal:
                raise ApplyStopped(exc) from exc
            message, temporary = f"{why}{exc}", exc.temporary
        except Exception as exc:
            message, temporary = f"{why}{exc}", True
        for item in items:
            self.done(item, "failed", message, temporary=temporary)
        return False, None

    async def one(self, item: PlanItem, handler: Handler) -> None:
        """Run one item's handler under the concurrency bound; record its result."""
        async with self.semaphore:
            if self.fence is not None:
                self.fence.before_write()
            ok, result = await self.attempt(lambda: handler(item), [item])
        if ok and result is not None:
            self.report.results.append(result)
            self.progress(1)

    async def each(self, items: list[PlanItem], handler: Handler) -> None:
        """`items` in batches of `BATCH_PER_SLOT` x `concurrency` (at most `concurrency` at
        once), `batch()` before each: a deposed or stopping writer stops within a batch.

        A batch is queued as soon as every item of the one before has started (at most
        `concurrency` of them still in flight), not after the last has finished: the slots
        stay full across batches. No write starts after a `batch()` that raised; every item
        in flight completes before the stop propagates (none is half-written)."""
        size = self.concurrency * BATCH_PER_SLOT
        order: dict[asyncio.Task[None], int] = {}
        running: set[asyncio.Task[None]] = set()
        failure: BaseException | None = None

        def first_failure(ended: set[asyncio.Task[None]]) -> BaseException | None:
            raised = [t for t in ended if not t.cancelled() and t.exception() is not None]
            return min(raised, key=order.__getitem__).exception() if raised else None

        try:
            for start in range(0, len(items), size):
                while len(running) > self.concurrency and failure is None:
                    ended, running = await asyncio.wait(
                        running, return_when=asyncio.FIRST_COMPLETED
                    )
                    failure = first_failure(ended)
                if failure is not None:
                    break
                await self.batch()
                for item in items[start : start + size]:
                    task = asyncio.ensure_future(self.one(item, handler))
                    order[task] = len(order)
                    running.add(task)
        except asyncio.CancelledError:
            for task in running:  # cancelled from outside: as `gather` would, cancel them
                task.cancel()
            if running:
                await asyncio.wait(running)
            raise
        except BaseException as exc:  # the fence refused the next batch
            failure = exc
        if running:
            ended, _ = await asyncio.wait(running)
            last = first_failure(ended)  # (retrieves every exception: none logged as lost)
            failure = failure or last
        if failure is not None:
            raise failure

    def done(
        self, item: PlanItem, status: Status, message: str = "", *, temporary: bool = False
    ) -> None:
        self.report.results.append(ItemResult(item, status, message, temporary=temporary))
        self.progress(1)
