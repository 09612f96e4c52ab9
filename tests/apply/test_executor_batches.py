"""The executor's write batches, over real HTTP against the Tanium emulator: the next batch is
queued while the last items of the one before are still in flight (the slots stay full), the
fence is asked before each batch, and a refused batch starts no write while every write in
flight completes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest
from octi_sandbox.server import serve_in_thread
from octi_sandbox.tanium import DEFAULT_TOKEN, TaniumConfig, create_app

from controller.apply import labels
from controller.apply.executor import BATCH_PER_SLOT, Executor
from controller.apply.report import ItemResult
from controller.core.model import ActualState
from controller.core.plan import PlanItem
from controller.core.reasons import Reason
from controller.errors import ApplyStopped
from controller.tanium import TaniumClient

CONCURRENCY = 2
BATCH = CONCURRENCY * BATCH_PER_SLOT


@pytest.fixture
def tanium() -> Iterator[str]:
    with serve_in_thread(create_app(TaniumConfig())) as url:
        httpx.post(url + "/__sandbox/faults", json={"kind": "latency", "latencyMs": 2})
        yield url


def label_items(n: int) -> list[PlanItem]:
    return [
        PlanItem(action="create", kind="label", key=f"label:l{i}", reason=Reason.NEW,
                 name=f"l{i}", desired={"name": f"l{i}"})
        for i in range(n)
    ]  # fmt: skip


def label_names(url: str) -> set[str]:
    state = httpx.get(url + "/__sandbox/state", params={"contents": "false"}, timeout=30).json()
    return {label["name"] for label in state["labels"]}


class Fence:
    """Records each `before_batch` (how many items had finished then); may refuse one."""

    def __init__(self, run: Callable[[], Executor], refuse_at: int | None = None) -> None:
        self.run = run
        self.refuse_at = refuse_at
        self.finished_at: list[int] = []
        self.asked = asyncio.Event()

    async def before_batch(self) -> None:
        self.finished_at.append(len(self.run().report.results))
        if len(self.finished_at) == 2:
            self.asked.set()
        if self.refuse_at is not None and len(self.finished_at) == self.refuse_at:
            raise PermissionError("lease lost")

    def before_write(self) -> None:
        pass


async def apply_labels(
    url: str,
    items: list[PlanItem],
    fence_of: Callable[[Callable[[], Executor]], Fence],
    gate: Callable[[Fence, PlanItem], Awaitable[None]] | None = None,
) -> tuple[Executor, Fence]:
    async with TaniumClient(url, DEFAULT_TOKEN, max_in_flight=CONCURRENCY) as client:
        holder: list[Executor] = []
        fence = fence_of(lambda: holder[0])
        run = Executor(
            client, ActualState(source_id=None, source_name="s"), concurrency=CONCURRENCY,
            fence=fence,
        )  # fmt: skip
        holder.append(run)

        async def handler(item: PlanItem) -> ItemResult:
            result = await labels.ensure(run, item)
            if gate is not None:
                await gate(fence, item)
            return result

        await asyncio.wait_for(run.each(items, handler), timeout=30)
        return run, fence


def test_the_next_batch_is_queued_while_the_last_items_of_the_previous_are_in_flight(
    tanium: str,
) -> None:
    """The first item of the first batch finishes only once the fence was asked for the
    second batch: waiting for a whole batch to end before the next would never get there."""

    async def gate(fence: Fence, item: PlanItem) -> None:
        if item.name == "l0":
            await fence.asked.wait()

    items = label_items(BATCH * 2 + 3)
    run, fence = asyncio.run(apply_labels(tanium, items, Fence, gate))
    assert len(fence.finished_at) == 3
    assert fence.finished_at[0] == 0
    assert BATCH - CONCURRENCY <= fence.finished_at[1] < BATCH  # l0 still in flight
    assert [r.status for r in run.report.results] == ["ok"] * len(items)
    assert label_names(tanium) == {i.name for i in items}


def test_a_refused_batch_starts_no_write_and_the_writes_in_flight_complete(tanium: str) -> None:
    items = label_items(BATCH * 3)
    with pytest.raises(PermissionError, match="lease lost"):
        asyncio.run(apply_labels(tanium, items, lambda run: Fence(run, refuse_at=2)))
    # the first batch whole (its last items were in flight while the fence was asked), and
    # nothing of the second or third
    assert label_names(tanium) == {i.name for i in items[:BATCH]}


def test_a_failing_item_fails_alone_and_the_batches_go_on(tanium: str) -> None:
    async def gate(fence: Fence, item: PlanItem) -> None:
        if item.name == "l3":
            raise LookupError("a bug in one item")

    items = label_items(BATCH * 3)
    run, fence = asyncio.run(apply_labels(tanium, items, Fence, gate))
    failed = [r for r in run.report.results if r.status == "failed"]
    assert [(r.item.name, r.temporary) for r in failed] == [("l3", True)]  # fail closed
    assert len(fence.finished_at) == 3
    assert label_names(tanium) == {i.name for i in items}


def test_a_fatal_answer_stops_the_apply_after_the_writes_in_flight(tanium: str) -> None:
    """Tanium answers 401 from the fourth label on: `ApplyStopped`, no further batch."""

    async def gate(fence: Fence, item: PlanItem) -> None:
        if item.name == "l3":
            httpx.post(tanium + "/__sandbox/faults", json={"kind": "error", "status": 401})

    items = label_items(BATCH * 3)
    with pytest.raises(ApplyStopped, match="apply stopped"):
        asyncio.run(apply_labels(tanium, items, Fence, gate))
    made = label_names(tanium)
    assert {"l0", "l1", "l2", "l3"} <= made <= {i.name for i in items[:BATCH]}
