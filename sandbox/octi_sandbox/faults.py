"""The one fault injector both emulators use: which call fails, and the ways a server fails.

Each emulator keeps its own rule model (the request format of its `POST /__sandbox/faults`)
on top of `FaultRuleBase`, and its own way of answering (a Tanium REST error, a GraphQL
error); everything else is here:

- which rule fires for a call: rules are tried in the order they were posted; a matching rule
  first lets `after` calls through, then fires with `probability` (a seeded generator: a
  reproducible random rate) and expires after `times` calls ("fail the next N calls");
  latency rules add up and let the call proceed, the first other rule answers instead;
- how long to wait (`latency_ms`), the `Retry-After` header, dropping the connection (a TCP
  reset or a plain close) under uvicorn, and the exceptions that stand for it in-process;
- for faults "after the write": replaying the request body to the emulator and discarding
  its reply.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections import Counter
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from itertools import count
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.types import Receive, Send


class FaultRuleBase(BaseModel):
    """What every rule has (snake_case or camelCase keys); `kind` is the emulator's own."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    kind: str
    latency_ms: float = Field(default=0, ge=0)
    probability: float = Field(default=1.0, ge=0, le=1)
    times: int | None = Field(default=None, ge=1)
    after: int = Field(default=0, ge=0)

    def delay(self, rng: random.Random) -> float:
        """Seconds this rule adds when it fires."""
        return self.latency_ms / 1000.0


R = TypeVar("R", bound=FaultRuleBase)


@dataclass
class ActiveRule(Generic[R]):
    """A posted rule: `remaining` calls it may still fail, `skip` matching calls it lets
    through first, `hits` how often it fired."""

    id: int
    rule: R
    remaining: int | None
    skip: int
    hits: int = 0

    def to_json(self) -> dict[str, Any]:
        data = self.rule.model_dump(by_alias=True, exclude_none=True)
        return {"id": self.id, **data, "remaining": self.remaining, "hits": self.hits}

    def fires(self, rng: random.Random) -> bool:
        """One matching call: let it through (`after`, `probability`) or fire, counting down
        `remaining`."""
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.rule.probability < 1 and rng.random() >= self.rule.probability:
            return False
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1
        return True


class FaultInjector(Generic[R]):
    """The active rules of one emulator, its seeded generator, and what it injected."""

    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[ActiveRule[R]] = []
        self.rng = random.Random(seed)
        self._ids = count(1)
        self.counts: Counter[str] = Counter()
        """Injected answers by rule kind (latency excluded), over the injector's lifetime."""

    def add(self, rule: R) -> int:
        active = ActiveRule(next(self._ids), rule, rule.times, rule.after)
        self.rules.append(active)
        return active.id

    def clear(self, seed: int | None = None) -> None:
        """Drop every rule and restart the generator (the counts stay)."""
        self.rules.clear()
        self.rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        self.rng = random.Random(seed)

    def to_json(self) -> list[dict[str, Any]]:
        return [a.to_json() for a in self.rules]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def pick(self, matches: Callable[[R], bool]) -> tuple[float, R | None]:
        """(delay in seconds, the answering rule or None) for one call."""
        delay, chosen = 0.0, None
        for active in list(self.rules):
            rule = active.rule
            if not matches(rule) or not active.fires(self.rng):
                continue
            if active.remaining is not None and active.remaining <= 0:
                self.rules.remove(active)
            delay += rule.delay(self.rng)
            if rule.kind != "latency":
                chosen = rule
                self.counts[rule.kind] += 1
                break
        return delay, chosen


# --------------------------------------------------------------------------- answering


def retry_after(seconds: float) -> str:
    """A `Retry-After` value: whole seconds without a fraction (`1`), else as given (`0.5`)."""
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


class ConnectionClosedByFault(httpx.RemoteProtocolError):
    """Raised in-process (no socket to close) for a connection closed without an answer,
    the exception httpx raises over a socket."""


class ConnectionResetByFault(httpx.ReadError):
    """Raised in-process (no socket to reset) where a real server would reset the
    connection: an `httpx.ReadError`, as a client sees over a socket."""


def drop_connection(send: Send, *, reset: bool) -> bool:
    """Drop the connection behind uvicorn's `send`: a TCP reset, or a plain close (FIN).
    False when there is no socket (an in-process ASGI transport)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if cycle is None or transport is None or not hasattr(transport, "abort"):
        return False
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    cycle.disconnected = True  # uvicorn then neither logs nor answers 500
    return True


def replay(body: bytes) -> Receive:
    """A `receive` that hands over an already read request body once."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def discard(message: MutableMapping[str, Any]) -> None:
    """A `send` that drops the emulator's own reply (for faults after the write)."""


async def sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
