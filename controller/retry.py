"""The one retry loop of both HTTP clients (Tanium, OpenCTI).

Exponential backoff with full jitter, at least the server's `Retry-After` (delta-seconds or an
HTTP date), bounded in attempts and in total time. A failure is classed by the shared
`RemoteError` attributes: `temporary` (worth another attempt) and `maybe_applied` (the server
may have processed the call before it failed). A call that may have been applied is repeated
blindly only when it is idempotent; otherwise the caller's `landed` check looks the result up
first, and only when it finds nothing is the call sent again — a retry never duplicates.

The clocks, the sleep and the randomness are a `Timing`, injected into both clients: tests hand
them a fake clock whose `sleep` only records, so no test waits in real backoff.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

from controller.errors import RemoteError

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    """Upper bound of the first backoff (seconds); doubles per attempt, up to `max_delay`."""
    max_delay: float = 30.0
    max_total: float = 120.0
    """No retry is started when it would end later than this after the first attempt."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform between 0 and the capped exponential bound."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Timing:
    """Time and chance as the retry loop sees them; injectable (`sleep` above all)."""

    sleep: Sleep = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    """Monotonic seconds: elapsed time against `RetryPolicy.max_total`."""
    wall_clock: Callable[[], float] = time.time
    """Unix seconds: to read a `Retry-After` HTTP date."""
    rng: random.Random = field(default_factory=random.Random)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, when.timestamp() - now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    timing: Timing,
    idempotent: bool,
    exhausted: Callable[[RemoteError, int, bool], RemoteError],
    landed: Callable[[], Awaitable[T | None]] | None = None,
    log: logging.Logger,
    what: str = "",
) -> T:
    """`attempt()` until it succeeds, a failure is not `temporary`, or the policy gives up.

    `exhausted(failure, attempts, uncertain)` builds the error raised on giving up; `uncertain`
    is True when the server may have applied a non-idempotent call that was not verified.
    `landed` (for non-idempotent calls): after a failure that may have been applied, the
    result found by looking it up (returned as the call's), or None to send again.
    """
    started = timing.clock()
    tries = 0
    while True:
        tries += 1
        try:
            return await attempt()
        except RemoteError as exc:
            if not exc.temporary:
                raise
            failure = exc
        check_first = failure.maybe_applied and not idempotent
        if check_first and landed is None:
            raise exhausted(failure, tries, True)
        delay = policy.backoff(tries, timing.rng)
        if failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        elapsed = timing.clock() - started
        give_up = tries >= policy.max_attempts or elapsed + delay > policy.max_total
        if not give_up:
            log.warning(
                "%s; attempt %d/%d in %.2fs", failure, tries + 1, policy.max_attempts, delay
            )
            await timing.sleep(delay)
        if check_first and landed is not None:
            try:
                found = await landed()
            except RemoteError as exc:
                raise exhausted(failure, tries, True) from exc
            if found is not None:
                log.info("%s: the reply was lost but the call landed", what or failure)
                return found
        if give_up:
            raise exhausted(failure, tries, check_first)
