"""Stream events → a debounced pass. Events are hints: they never write anything themselves.

A relevant event (a deletion or merge, a (re)connection, or a change of an entity type some
policy selects) asks for a pass:

- **Idle** (no pass in flight, and none ended in the last `debounce` seconds): the first event
  starts a pass at once (the leading edge). A single change reaches Tanium one pass after it
  reached the listener, with no quiet period to wait out.
- **Busy** (a pass in flight, or one just ended): events wait for the stream to be quiet for
  `debounce` seconds after the pass in flight has ended, and at most `max_delay` after the
  first of them; all of them make one pass. So a pass in flight is followed by exactly one
  more whatever the number of events meanwhile, and a continuous burst costs one pass every
  `max_delay` seconds (or back to back, if a pass takes longer than that).

The price of the leading edge: a burst arriving at an idle trigger costs one pass more (its
first event's, then one for the rest) than a purely trailing debounce would.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from controller.sources.opencti.stream import StreamEvent

log = logging.getLogger("octi_tanium.trigger")

ALWAYS = frozenset({"delete", "merge", "connected"})
DEBOUNCE = 0.5
"""Seconds of quiet the stream needs before a pass, once a pass has run recently."""
MAX_DELAY = 5.0
"""Seconds a burst may delay its pass at most, from its first event."""


class PassTrigger:
    def __init__(
        self,
        run_pass: Callable[[], Awaitable[object]],
        entity_types: Iterable[str] | None,
        *,
        debounce: float = DEBOUNCE,
        max_delay: float = MAX_DELAY,
        leading: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """`entity_types`: what the policies select (OpenCTI names), None for everything.
        `run_pass` returns when the pass has ended. `leading`: start at once when idle.
        `clock` and `sleep` are injected by the tests."""
        self.run_pass = run_pass
        self.entity_types = None if entity_types is None else {t.lower() for t in entity_types}
        self.debounce = debounce
        self.max_delay = max_delay
        self.leading = leading
        self.clock = clock
        self.sleep = sleep
        self.passes = 0
        self.running = False
        """A pass this trigger started is in flight."""
        self._pending = asyncio.Event()
        self._first: float | None = None
        self._last = 0.0
        self._at_once = False
        self._ended: float | None = None

    def relevant(self, event: StreamEvent) -> bool:
        if event.topic in ALWAYS or self.entity_types is None or not event.entity_type:
            return True
        return event.entity_type.lower() in self.entity_types

    def on_event(self, event: StreamEvent) -> None:
        if not self.relevant(event):
            return
        now = self.clock()
        if self._first is None:
            self._first = now
            self._at_once = self.leading and self.idle(now)
        self._last = now
        self._pending.set()

    def idle(self, now: float) -> bool:
        """No pass in flight, and none ended within `debounce` seconds of `now`."""
        return not self.running and (self._ended is None or now - self._ended >= self.debounce)

    def due(self) -> float | None:
        """When the pass asked for may start (the clock's seconds), None when none is asked
        for. Never before the pass in flight has ended: `run` waits for it first."""
        if self._first is None:
            return None
        if self._at_once:
            return self._first
        return min(self._last + self.debounce, self._first + self.max_delay)

    async def run(self) -> None:
        """Run passes as events call for them, until cancelled."""
        while True:
            await self._pending.wait()
            while True:
                wake = self.due()
                assert wake is not None
                now = self.clock()
                if now >= wake:
                    break
                await self.sleep(wake - now)
            self._pending.clear()
            self._first = None
            self._at_once = False
            self.passes += 1
            log.info("stream: pass triggered by OpenCTI events")
            self.running = True
            try:
                await self.run_pass()
            finally:
                self.running = False
                self._ended = self.clock()
