"""Stream events are hints: which ones start a pass, and how a burst becomes one pass."""

from __future__ import annotations

import asyncio
import json

from controller.run.trigger import PassTrigger
from controller.sources.opencti.stream import OPENCTI_EXTENSION, StreamEvent, parse_event


def _event(topic: str, entity_type: str) -> StreamEvent:
    return StreamEvent("1-0", topic, entity_type, "x--1")


def test_only_events_about_selected_types_deletions_and_reconnections_are_relevant() -> None:
    async def nothing() -> None:
        return None

    trigger = PassTrigger(nothing, {"Indicator", "StixFile"})
    assert trigger.relevant(_event("create", "Indicator"))
    assert trigger.relevant(_event("update", "StixFile"))
    assert not trigger.relevant(_event("update", "Report"))
    assert trigger.relevant(_event("delete", "Report"))  # it may have been a merge target
    assert trigger.relevant(StreamEvent(None, "connected"))
    assert PassTrigger(nothing, None).relevant(_event("create", "Report"))


def test_a_burst_is_one_pass_and_an_event_during_a_pass_is_one_more() -> None:
    async def scenario() -> int:
        started = asyncio.Event()
        release = asyncio.Event()

        async def run_pass() -> None:
            started.set()
            await release.wait()

        trigger = PassTrigger(run_pass, None, debounce=0.01, max_delay=0.05)
        for _ in range(500):  # all before the trigger's loop runs at all
            trigger.on_event(_event("update", "Indicator"))
        task = asyncio.create_task(trigger.run())
        await started.wait()
        started.clear()
        for _ in range(50):  # during the pass
            trigger.on_event(_event("update", "Indicator"))
        release.set()
        await started.wait()  # exactly one more pass follows
        await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return trigger.passes

    assert asyncio.run(scenario()) == 2


def test_stream_frames_become_events_with_openctis_entity_type() -> None:
    data = {"data": {"id": "indicator--1", "type": "indicator",
                     "extensions": {OPENCTI_EXTENSION: {"type": "Indicator"}}}}  # fmt: skip
    assert parse_event("5-1", "create", json.dumps(data)) == StreamEvent(
        "5-1", "create", "Indicator", "indicator--1"
    )
    plain = {"data": {"id": "ipv4-addr--2", "type": "ipv4-addr"}}
    assert parse_event("5-2", "update", json.dumps(plain)).entity_type == "IPv4-Addr"  # type: ignore[union-attr]
    assert parse_event("5-3", "heartbeat", "{}") is None
    assert parse_event("5-4", "delete", "not json") == StreamEvent("5-4", "delete")
