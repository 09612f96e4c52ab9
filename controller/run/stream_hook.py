"""Wiring of the live stream into `run`: OpenCTI events schedule debounced passes.

Only with `--source opencti`. `OPENCTI_STREAM_ID` names a live stream (`/stream/<id>`);
unset, the raw stream (`/stream`, which needs BYPASS) is tried. Either way the scheduled
passes go on unchanged: the stream only makes a change arrive sooner, and when it is down
(`octi_tanium_stream_up` 0) nothing else changes.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from controller.errors import UserError
from controller.policy.located import PolicySet
from controller.policy.models import IntelPolicy
from controller.reconcile import load_checked
from controller.run.metrics import STREAM_EVENTS, STREAM_PASSES, STREAM_UP
from controller.run.trigger import DEBOUNCE, PassTrigger
from controller.sources.opencti.incremental import hint_gone
from controller.sources.opencti.settings import OpenCTISettings
from controller.sources.opencti.stream import StreamEvent, StreamListener

log = logging.getLogger("octi_tanium.stream")


def selected_types(policies: PolicySet) -> set[str] | None:
    """The entity types some policy selects; None when one takes every type."""
    out: set[str] = set()
    for located in policies.intel_policies:
        doc = located.document
        assert isinstance(doc, IntelPolicy)
        if not doc.spec.select.entity_types:
            return None
        out.update(doc.spec.select.entity_types)
    return out


def stream_tasks(
    run_pass: Callable[[], Awaitable[object]],
    policies: Path,
    source: str,
    *,
    debounce: float = DEBOUNCE,
    settings: OpenCTISettings | None = None,
) -> tuple[PassTrigger, StreamListener] | None:
    """The trigger and the listener for `source` (None for a bundle source or no OpenCTI)."""
    if source != "opencti":
        return None
    try:
        settings = settings or OpenCTISettings.from_env()
        types = selected_types(load_checked(policies).policies)
    except UserError as exc:
        log.warning("OpenCTI stream not started: %s", exc.explain())
        return None

    async def counted_pass() -> object:
        STREAM_PASSES.inc()
        return await run_pass()

    trigger = PassTrigger(counted_pass, types, debounce=debounce)

    def on_event(event: StreamEvent) -> None:
        STREAM_EVENTS.labels(event.topic).inc()
        if event.gone:  # spares the incremental fetch a listing of every id
            hint_gone(settings.url, event.gone)
        trigger.on_event(event)

    listener = StreamListener(settings, os.environ.get("OPENCTI_STREAM_ID") or None, on_event)
    STREAM_UP.set_function(lambda: float(listener.up))
    return trigger, listener


def start(
    run_pass: Callable[[], Awaitable[object]], policies: Path, source: str
) -> list[asyncio.Task[None]]:
    """Start listening (call inside the running loop); the tasks run until cancelled."""
    made = stream_tasks(run_pass, policies, source)
    if made is None:
        return []
    trigger, listener = made
    return [asyncio.create_task(trigger.run()), asyncio.create_task(listener.run())]
