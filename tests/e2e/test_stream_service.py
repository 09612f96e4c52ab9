"""The live stream wired as `run` wires it (`Service`: APScheduler's scheduled passes, the
stream's passes taking turns with them), over real HTTP against both emulators: a change made
in OpenCTI *during* a pass gets one more pass at once, not the next interval's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti.server import serve_opencti

from controller.run import Reconciler
from controller.run.outcome import PassResult
from controller.run.service import Service
from controller.run.stream_hook import stream_tasks
from controller.sources.opencti.stream import StreamEvent
from tests.e2e.harness import tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING
from tests.e2e.test_stream_trigger import (
    OPENCTI_TOKEN,
    create_indicator,
    environment,
    eventually,
    in_tanium,
)


class ChangeDuringThePass(Reconciler):
    """Once armed, the next pass ends only after an indicator created after it read OpenCTI
    has come back through the stream: that event arrives during the pass."""

    def __init__(self, url: str, seen: list[StreamEvent]) -> None:
        super().__init__(EVERYTHING, "opencti")
        self.url = url
        self.seen = seen
        self.armed = False

    async def tick(self) -> PassResult:
        result = await super().tick()
        if self.armed:
            self.armed = False
            before = len(self.seen)
            await create_indicator(self.url, LATE)
            await eventually(lambda: any(e.topic == "create" for e in self.seen[before:]))
            await asyncio.sleep(1.0)  # a trigger not waiting for this pass would ask meanwhile
        return result


LATE = "198.51.100.22"


def test_a_change_made_during_a_pass_gets_one_more_pass_not_the_next_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,), stream_heartbeat=0.5)
    with tanium_sandbox() as box, serve_opencti(config) as (url, _):
        environment(monkeypatch, box, url, tmp_path)
        monkeypatch.setenv("OCTI_TANIUM_PIVOT", "off")  # its own writes would be events too
        seen: list[StreamEvent] = []
        reconciler = ChangeDuringThePass(url, seen)

        async def scenario() -> int:
            service = Service(reconciler)  # the policies' interval: 15 min, never reached here
            made = stream_tasks(service.triggered, EVERYTHING, "opencti", debounce=0.2)
            assert made is not None
            trigger, listener = made
            relevant = trigger.on_event

            def on_event(event: StreamEvent) -> None:
                seen.append(event)
                relevant(event)

            trigger.on_event = on_event  # type: ignore[method-assign]
            service.scheduler.start()
            service.schedule(datetime.now(UTC))  # the pass at start, as `serve` does
            tasks = [asyncio.create_task(trigger.run()), asyncio.create_task(listener.run())]
            try:
                await eventually(lambda: listener.up and reconciler.passes >= 1)
                await eventually(
                    lambda: (
                        service.current is None and not trigger.running and trigger.due() is None
                    )
                )
                start = reconciler.passes
                reconciler.armed = True
                await create_indicator(url, "198.51.100.21")  # starts the armed pass
                await eventually(lambda: in_tanium(box, "198.51.100.21"))
                await eventually(lambda: in_tanium(box, LATE))
                await eventually(lambda: service.current is None and not trigger.running)
                return reconciler.passes - start
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                service.scheduler.shutdown(wait=False)

        assert asyncio.run(scenario()) == 2  # the change's pass, and one more for the late one
        assert reconciler.last_code == 0
