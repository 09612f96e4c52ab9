"""`run` with OpenCTI's live stream, over real HTTP against both emulators: an event triggers
a pass that applies the change without waiting for the interval; with the stream down the
scheduled passes converge as before; a restarted listener resumes after its last event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti.server import serve_opencti

from controller.run import Reconciler
from controller.run.metrics import STREAM_UP
from controller.run.stream_hook import stream_tasks
from controller.sources.opencti.settings import OpenCTISettings
from controller.sources.opencti.stream import StreamEvent, StreamListener
from tests.e2e.harness import TOKEN, Sandbox, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING

OPENCTI_TOKEN = "opencti-stream-token"
PATIENCE = 60.0
"""A liveness bound, not a timing assertion: only a hung test ever reaches it."""


def environment(monkeypatch: pytest.MonkeyPatch, box: Sandbox, url: str, state: Path) -> None:
    for name, value in {
        "TANIUM_URL": box.url,
        "TANIUM_TOKEN": TOKEN,
        "OPENCTI_URL": url,
        "OPENCTI_TOKEN": OPENCTI_TOKEN,
        "OPENCTI_STREAM_ID": "octi-tanium",
        "OCTI_TANIUM_STATE_DIR": str(state),
        "TANIUM_RETRY_BACKOFF": "0.001",
        "OPENCTI_RETRY_BACKOFF": "0.001",
    }.items():
        monkeypatch.setenv(name, value)


async def eventually(check: Callable[[], Any]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while not check():
        assert loop.time() < deadline, "gave up waiting"
        await asyncio.sleep(0.05)


def in_tanium(box: Sandbox, value: str) -> bool:
    return any(doc.get("name") == value for doc in box.state()["intels"])


async def create_indicator(url: str, value: str) -> dict[str, Any]:
    body = {
        "op": "create-indicator",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "name": value,
        "detection": True,  # OpenCTI's default is false: not synced
    }
    async with httpx.AsyncClient() as http:
        reply = await http.post(f"{url}/__sandbox/objects", json=body)
    reply.raise_for_status()
    return dict(reply.json())


def test_an_indicator_created_in_opencti_reaches_tanium_through_the_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,), stream_heartbeat=0.5)
    with tanium_sandbox() as box, serve_opencti(config) as (url, _):
        environment(monkeypatch, box, url, tmp_path)
        reconciler = Reconciler(EVERYTHING, "opencti")

        async def scenario() -> int:
            made = stream_tasks(reconciler.tick, EVERYTHING, "opencti", debounce=0.2)
            assert made is not None
            trigger, listener = made
            tasks = [asyncio.create_task(trigger.run()), asyncio.create_task(listener.run())]
            try:  # the connection itself is a hint: one pass, then the interval would follow
                await eventually(lambda: trigger.passes == 1 and reconciler.ready)
                await create_indicator(url, "198.51.100.7")
                await eventually(lambda: in_tanium(box, "198.51.100.7"))
                return trigger.passes
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        passes = asyncio.run(scenario())
        assert passes == 2  # no scheduled pass ran: only the stream's
        assert reconciler.last_code == 0


def test_with_the_stream_stopped_scheduled_passes_still_converge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,), stream_live=False)
    with tanium_sandbox() as box, serve_opencti(config) as (url, _):
        environment(monkeypatch, box, url, tmp_path)
        reconciler = Reconciler(EVERYTHING, "opencti")

        async def scenario() -> tuple[bool, float, int]:
            made = stream_tasks(reconciler.tick, EVERYTHING, "opencti")
            assert made is not None
            _trigger, listener = made
            task = asyncio.create_task(listener.run())
            try:
                await asyncio.sleep(0.3)  # let it try (and be refused with 410)
                await create_indicator(url, "198.51.100.8")
                await reconciler.tick()  # the scheduled pass
                metric = STREAM_UP.collect()[0].samples[0].value
                return listener.up, metric, listener.connections
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        up, metric, connections = asyncio.run(scenario())
        assert (up, metric, connections) == (False, 0.0, 0)
        assert in_tanium(box, "198.51.100.8") and reconciler.last_code == 0


def test_a_restarted_listener_resumes_after_its_last_event(tmp_path: Path) -> None:
    config = OpenCTIConfig(tokens=(OPENCTI_TOKEN,), stream_heartbeat=0.2)
    with serve_opencti(config) as (url, _):
        settings = OpenCTISettings(url=url, token=OPENCTI_TOKEN)
        cursor = tmp_path / "cursor"

        async def listen(until: Callable[[list[StreamEvent]], bool], *values: str) -> list:
            seen: list[StreamEvent] = []
            listener = StreamListener(settings, "octi-tanium", seen.append, cursor=cursor)
            task = asyncio.create_task(listener.run())
            try:
                await eventually(lambda: listener.up)
                for value in values:
                    await create_indicator(url, value)
                await eventually(lambda: until(seen))
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            return seen

        def creates(seen: list[StreamEvent]) -> list[str]:
            return [e.standard_id for e in seen if e.topic == "create"]

        first = asyncio.run(listen(lambda s: len(creates(s)) == 2, "203.0.113.1", "203.0.113.2"))
        assert cursor.read_text().strip() == first[-1].id
        missed = asyncio.run(create_indicator(url, "203.0.113.3"))  # while nobody listens
        second = asyncio.run(listen(lambda s: len(creates(s)) >= 1))
        assert [e.topic for e in second][:2] == ["connected", "create"]
        assert creates(second) == [missed["standard_id"]]  # nothing skipped, nothing repeated
        assert all(e.entity_type == "Indicator" for e in second if e.topic == "create")
