"""Stream events → a debounced pass. Events are hints: they never write anything themselves.

A relevant event (a deletion or merge, a (re)connection, or a change of an entity type some
policy selects) arms a timer of `debounce` seconds; events arriving meanwhile join the same
pass, and a burst never delays a pass more than `max_delay` after its first event. A pass
running when an event arrives is followed by one more, so no event is ever left behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from controller.sources.opencti.stream import StreamEvent

log = logging.getLogger("octi_tanium.trigger")

ALWAYS = frozenset({"delete", "merge", "connected"})


class PassTrigger:
    def __init__(
        self,
        run_pass: Callable[[], Awaitable[object]],
        entity_types: Iterable[str] | None,
        *,
        debounce: float = 1.0,
        max_delay: float = 5.0,
    ) -> None:
        """`entity_types`: what the policies select (OpenCTI names), None for everything."""
        self.run_pass = run_pass
        self.entity_types = None if entity_types is None else {t.lower() for t in entity_types}
        self.debounce = debounce
        self.max_delay = max_delay
        self.passes = 0
        self._pending = asyncio.Event()
        self._first: float | None = None
        self._last: float = 0.0

    def relevant(self, event: StreamEvent) -> bool:
        if event.topic in ALWAYS or self.entity_types is None or not event.entity_type:
            return True
        return event.entity_type.lower() in self.entity_types

    def on_event(self, event: StreamEvent) -> None:
        if not self.relevant(event):
            return
        now = time.monotonic()
        self._first = self._first or now
        self._last = now
        self._pending.set()

    async def run(self) -> None:
        """Run passes as events call for them, until cancelled."""
        while True:
            await self._pending.wait()
            while True:  # wait for a quiet `debounce`, at most `max_delay` after the first
                assert self._first is not None
                now = time.monotonic()
                wake = min(self._last + self.debounce, self._first + self.max_delay)
                if now >= wake:
                    break
                await asyncio.sleep(wake - now)
            self._pending.clear()
            self._first = None
            self.passes += 1
            log.info("stream: pass triggered by OpenCTI events")
            await self.run_pass()
