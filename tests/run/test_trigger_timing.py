"""When the stream's events start passes: the trigger's timing on a simulated clock (no wall
clock anywhere), and how stream-triggered and scheduled passes take turns in the service."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.run.outcome import PassResult
from controller.run.scheduler import Reconciler
from controller.run.service import Service
from controller.run.trigger import PassTrigger
from controller.sources.opencti.stream import StreamEvent

EVENT = StreamEvent("1-0", "create", "Indicator", "indicator--1")


class Simulation:
    """Simulated time: events delivered at scripted instants, passes lasting `pass_seconds`.
    The trigger's `sleep` moves the clock, delivering the events it passes over."""

    def __init__(self, events: list[float], pass_seconds: float, **options: float | bool) -> None:
        self.now = 0.0
        self.script = sorted(events)
        self.pass_seconds = pass_seconds
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.trigger = PassTrigger(
            self.run_pass,
            None,
            clock=self.clock,
            sleep=self.sleep,
            **options,  # type: ignore[arg-type]
        )

    def clock(self) -> float:
        return self.now

    def advance(self, until: float) -> None:
        while self.script and self.script[0] <= until:
            self.now = max(self.now, self.script.pop(0))
            self.trigger.on_event(EVENT)
        self.now = max(self.now, until)

    async def sleep(self, seconds: float) -> None:
        self.advance(self.now + seconds)
        await asyncio.sleep(0)

    async def run_pass(self) -> None:
        self.starts.append(self.now)
        self.advance(self.now + self.pass_seconds)
        self.ends.append(self.now)
        await asyncio.sleep(0)

    def run(self) -> list[float]:
        """The start times of the passes, once every event has been delivered and served."""

        async def scenario() -> None:
            task = asyncio.create_task(self.trigger.run())
            while True:
                await asyncio.sleep(0)
                if self.trigger.running or self.trigger.due() is not None:
                    continue
                if not self.script:
                    break
                self.advance(self.script[0])  # idle: nothing happens until the next event
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        asyncio.run(scenario())
        return self.starts


def test_an_event_at_an_idle_trigger_starts_a_pass_at_once() -> None:
    assert Simulation([10.0], 0.3).run() == [10.0]
    assert Simulation([10.0], 0.3, leading=False, debounce=0.5).run() == [10.5]


def test_events_during_a_pass_wait_for_it_and_for_a_quiet_stream_then_make_one_pass() -> None:
    # a pass from 0 to 2; events at 0.5, 1.0, 1.8 (quiet from 1.8): one more pass, at 2.3
    assert Simulation([0.0, 0.5, 1.0, 1.8], 2.0, debounce=0.5).run() == [0.0, 2.3]
    # the same events but the pass ends at 3.0, after the stream went quiet: at once
    assert Simulation([0.0, 0.5, 1.0, 1.8], 3.0, debounce=0.5).run() == [0.0, 3.0]


def test_an_event_just_after_a_pass_is_debounced_and_one_later_is_not() -> None:
    # pass 0 → 0.1; an event 0.2 after it ended (< debounce): waits for quiet
    assert Simulation([0.0, 0.3], 0.1, debounce=0.5).run() == [0.0, 0.8]
    # an event 0.6 after it ended (>= debounce): idle again, at once
    assert Simulation([0.0, 0.7], 0.1, debounce=0.5).run() == [0.0, 0.7]


def test_a_continuous_burst_costs_one_pass_per_max_delay() -> None:
    burst = [i / 100 for i in range(2001)]  # 100 events a second for 20 s
    starts = Simulation(burst, 1.0, debounce=0.5, max_delay=5.0).run()
    assert len(starts) == 5  # the leading one, then one every 5 s, the last after the burst
    assert all(b - a >= 5.0 - 1e-9 for a, b in itertools.pairwise(starts[1:]))
    assert starts[-1] >= burst[-1]


def test_passes_longer_than_max_delay_run_back_to_back() -> None:
    burst = [i / 10 for i in range(301)]  # 30 s of events, passes of 8 s
    sim = Simulation(burst, 8.0, debounce=0.5, max_delay=5.0)
    starts = sim.run()
    assert starts[1:] == sim.ends[:-1]  # each one starts as the previous ends


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=8.0), min_size=1, max_size=40),
    pass_seconds=st.floats(min_value=0.01, max_value=10.0),
    debounce=st.floats(min_value=0.0, max_value=2.0),
    max_delay=st.floats(min_value=0.5, max_value=6.0),
    leading=st.booleans(),
)
def test_no_event_is_left_behind_or_waits_longer_than_its_bound(
    gaps: list[float], pass_seconds: float, debounce: float, max_delay: float, leading: bool
) -> None:
    events = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    sim = Simulation(events, pass_seconds, debounce=debounce, max_delay=max_delay, leading=leading)
    starts = sim.run()
    assert all(b >= a + pass_seconds - 1e-9 for a, b in itertools.pairwise(starts))
    for at in events:
        later = [s for s in starts if s >= at]
        assert later, f"the event at {at} was left behind"
        # waits at most for the pass in flight to end, or max_delay after the first waiting
        assert later[0] <= at + max(max_delay, pass_seconds) + 1e-9
    assert len(starts) <= len(events)


# ---------------------------------------------------------------------------- the service


class Recording(Reconciler):
    """A reconciler whose passes only record when they ran (held open until released)."""

    def __init__(self) -> None:
        super().__init__(Path("policies"), "opencti")
        self.log: list[str] = []
        self.release = asyncio.Event()

    async def tick(self) -> PassResult:
        self.log.append("start")
        await self.release.wait()
        self.log.append("end")
        self.passes += 1
        return PassResult("ok", 0, "")


def test_a_stream_pass_waits_for_the_scheduled_one_and_the_scheduled_one_does_not_repeat_it() -> (
    None
):
    async def scenario() -> tuple[list[str], list[str]]:
        reconciler = Recording()
        service = Service(reconciler)
        service.scheduler.start()
        scheduled = asyncio.create_task(service.one_pass())
        await asyncio.sleep(0)
        streamed = asyncio.create_task(service.triggered())  # during the scheduled pass
        await asyncio.sleep(0)
        assert reconciler.log == ["start"]  # not two at once
        reconciler.release.set()
        await asyncio.gather(scheduled, streamed)
        first = list(reconciler.log)
        # a scheduled job that comes due during a stream pass finds the pass done: no repeat
        reconciler.log.clear()
        reconciler.release.clear()
        streamed = asyncio.create_task(service.triggered())
        await asyncio.sleep(0)
        scheduled = asyncio.create_task(service.one_pass())
        await asyncio.sleep(0)
        reconciler.release.set()
        await asyncio.gather(scheduled, streamed)
        job = service.scheduler.get_job("pass")
        service.scheduler.shutdown(wait=False)
        assert job is not None  # the stream pass scheduled the next one
        return first, reconciler.log

    first, second = asyncio.run(scenario())
    assert first == ["start", "end", "start", "end"]
    assert second == ["start", "end"]
