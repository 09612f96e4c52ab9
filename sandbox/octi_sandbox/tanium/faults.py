"""Fault injection: latency, 429 with Retry-After, 5xx, connection resets, truncated bodies.

A rule matches a request by `route` (a glob when it holds `*?[`, else a path prefix) and an
optional `method`. Each matching call is first let through `after` times; then it triggers with
`probability` (seeded generator); `times` limits how many calls it fails before it expires
("fail the next N calls"). Latency rules add up and let the call proceed; the first other
triggered rule answers in place of the emulator. Test routes (`/__sandbox/`, `/__emulator/`)
are never faulted.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import socket
import struct
from collections.abc import MutableMapping
from itertools import count
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.types import Receive, Scope, Send

from octi_sandbox.rules import ActiveRule

from .web import json_bytes, read_body, reason, send_raw

FaultKind = Literal["latency", "rate_limit", "error", "reset", "close", "truncate"]
"""`latency`: delay only; `rate_limit`: 429 + Retry-After; `error`: 5xx (`status`, default 503);
`reset`: TCP reset, no answer (httpx `ReadError`); `close`: connection closed without an answer
(httpx `RemoteProtocolError`); `truncate`: headers and part of the body, then closed
(httpx `RemoteProtocolError`)."""


class FaultRule(BaseModel):
    """One rule, as posted to `POST /__sandbox/faults` (snake_case or camelCase keys)."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    kind: FaultKind
    route: str = "*"
    method: str | None = None
    status: int | None = None
    """`error`: 500/502/503 (default 503); `rate_limit`: 429."""
    retry_after: float = Field(default=1, ge=0)
    """Seconds in the `Retry-After` header of `rate_limit` answers."""
    latency_ms: float = Field(default=0, ge=0)
    latency_max_ms: float | None = Field(default=None, ge=0)
    """When set, the delay is uniform in [latency_ms, latency_max_ms]."""
    probability: float = Field(default=1.0, ge=0, le=1)
    times: int | None = Field(default=None, ge=1)
    after: int = Field(default=0, ge=0)
    body: str | None = None
    """Replaces the JSON error body (e.g. an HTML page from a proxy); sent as text/html."""
    phase: Literal["before", "after"] = "before"
    """`before`: the fault answers instead of the emulator (nothing happens). `after`: the
    emulator handles the request (a create lands, a deploy starts), then the fault replaces
    its reply — the "applied, but the reply was lost" case a client must not duplicate."""

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.route in ("", "*"):
            return True
        if any(c in self.route for c in "*?["):
            return fnmatch.fnmatchcase(path, self.route)
        return path.startswith(self.route)


_Active = ActiveRule


class ConnectionClosedByFault(httpx.RemoteProtocolError):
    """Raised in-process for `close` and `truncate` faults (as httpx raises over a socket)."""


class ConnectionResetByFault(httpx.ReadError):
    """Raised in-process (no socket to close) where a real server would drop the connection.

    An `httpx.ReadError`, so a client mounted with `httpx.ASGITransport` sees the same exception
    class as over a real socket reset.
    """


class FaultInjector:
    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[_Active] = []
        self.rng = random.Random(seed)
        self._ids = count(1)
        self.injected = 0

    def add(self, rule: FaultRule) -> int:
        active = _Active(next(self._ids), rule, rule.times, rule.after)
        self.rules.append(active)
        return active.id

    def clear(self, seed: int | None = None) -> None:
        self.rules.clear()
        self.rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        self.rng = random.Random(seed)

    def to_json(self) -> list[dict[str, Any]]:
        return [a.to_json() for a in self.rules]

    def decide(self, method: str, path: str) -> tuple[float, FaultRule | None]:
        """(delay in seconds, the answering rule or None) for one request."""
        delay, chosen = 0.0, None
        for active in list(self.rules):
            rule = active.rule
            if not rule.matches(method, path):
                continue
            if not active.fires(self.rng, self.rules):
                continue
            delay += self._latency(rule)
            if rule.kind != "latency":
                chosen = rule
                break
        if chosen is not None:
            self.injected += 1
        return delay, chosen

    def _latency(self, rule: FaultRule) -> float:
        low = rule.latency_ms
        high = rule.latency_max_ms if rule.latency_max_ms is not None else low
        return (self.rng.uniform(low, high) if high > low else low) / 1000.0


def _server_transport(send: Send) -> tuple[Any, Any] | None:
    """The uvicorn request cycle and its asyncio transport behind `send`, when available."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        return None
    return cycle, transport


def _drop(send: Send, reset: bool) -> bool:
    """Drop the connection: a TCP reset, or a plain close (FIN). False when not under uvicorn."""
    found = _server_transport(send)
    if found is None:
        return False
    cycle, transport = found
    sock = transport.get_extra_info("socket")
    if reset and sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if reset:
        transport.abort()
    else:
        transport.close()
    cycle.disconnected = True  # uvicorn then neither logs nor answers 500
    return True


async def apply_fault(rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the request as the rule says, instead of the emulator."""
    await read_body(receive)
    where = f"{scope['method']} {scope['path']}"
    if rule.kind == "reset":
        if not _drop(send, reset=True):
            raise ConnectionResetByFault(f"fault: connection reset on {where}")
        return
    if rule.kind == "close":
        if not _drop(send, reset=False):
            raise ConnectionClosedByFault(f"fault: connection closed without a response on {where}")
        return
    if rule.kind == "truncate":
        start = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": start})
        await send({"type": "http.response.body", "body": b'{"data":[{"id":1,', "more_body": True})
        if not _drop(send, reset=False):
            raise ConnectionClosedByFault(f"fault: truncated response on {where}")
        return
    status = rule.status or (429 if rule.kind == "rate_limit" else 503)
    headers: dict[str, str] = {}
    if rule.kind == "rate_limit" or status == 429:
        ra = rule.retry_after
        headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
    if rule.body is not None:
        await send_raw(send, status, rule.body.encode(), "text/html", headers)
    else:
        payload = json_bytes({"text": reason(status)})
        await send_raw(send, status, payload, "application/json", headers)


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
    """A `send` that drops the emulator's own reply (for `after` faults)."""


async def sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
