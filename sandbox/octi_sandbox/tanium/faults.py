"""Tanium fault rules: latency, 429 with Retry-After, 5xx, connection resets, truncated bodies.

A rule matches a request by `route` (a glob when it holds `*?[`, else a path prefix) and an
optional `method`; when it fires is decided by the shared injector (`octi_sandbox.faults`:
`after`, `probability`, `times`). Latency rules add up and let the call proceed; the first
other triggered rule answers in place of the emulator, before or after the write (`phase`).
Test routes (`/__sandbox/`, `/__emulator/`) are never faulted.
"""

from __future__ import annotations

import fnmatch
import random
from typing import Literal

from pydantic import Field
from starlette.types import Receive, Scope, Send

from octi_sandbox import faults as shared
from octi_sandbox.faults import ConnectionClosedByFault, ConnectionResetByFault, FaultRuleBase

from .web import json_bytes, read_body, reason, send_raw

FaultKind = Literal["latency", "rate_limit", "error", "reset", "close", "truncate"]
"""`latency`: delay only; `rate_limit`: 429 + Retry-After; `error`: 5xx (`status`, default 503);
`reset`: TCP reset, no answer (httpx `ReadError`); `close`: connection closed without an answer
(httpx `RemoteProtocolError`); `truncate`: headers and part of the body, then closed
(httpx `RemoteProtocolError`)."""


class FaultRule(FaultRuleBase):
    """One rule, as posted to `POST /__sandbox/faults` (snake_case or camelCase keys)."""

    kind: FaultKind
    route: str = "*"
    method: str | None = None
    status: int | None = None
    """`error`: 500/502/503 (default 503); `rate_limit`: 429."""
    retry_after: float = Field(default=1, ge=0)
    """Seconds in the `Retry-After` header of `rate_limit` answers."""
    latency_max_ms: float | None = Field(default=None, ge=0)
    """When set, the delay is uniform in [latency_ms, latency_max_ms]."""
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

    def delay(self, rng: random.Random) -> float:
        low = self.latency_ms
        high = self.latency_max_ms if self.latency_max_ms is not None else low
        return (rng.uniform(low, high) if high > low else low) / 1000.0


class FaultInjector(shared.FaultInjector[FaultRule]):
    """The shared injector, matching Tanium requests by method and path."""

    @property
    def injected(self) -> int:
        """Answers injected over the emulator's lifetime (resets keep it)."""
        return self.total

    def decide(self, method: str, path: str) -> tuple[float, FaultRule | None]:
        """(delay in seconds, the answering rule or None) for one request."""
        return self.pick(lambda rule: rule.matches(method, path))


async def apply_fault(rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the request as the rule says, instead of the emulator."""
    await read_body(receive)
    where = f"{scope['method']} {scope['path']}"
    if rule.kind == "reset":
        if not shared.drop_connection(send, reset=True):
            raise ConnectionResetByFault(f"fault: connection reset on {where}")
        return
    if rule.kind == "close":
        if not shared.drop_connection(send, reset=False):
            raise ConnectionClosedByFault(f"fault: connection closed without a response on {where}")
        return
    if rule.kind == "truncate":
        start = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": start})
        await send({"type": "http.response.body", "body": b'{"data":[{"id":1,', "more_body": True})
        if not shared.drop_connection(send, reset=False):
            raise ConnectionClosedByFault(f"fault: truncated response on {where}")
        return
    status = rule.status or (429 if rule.kind == "rate_limit" else 503)
    headers: dict[str, str] = {}
    if rule.kind == "rate_limit" or status == 429:
        headers["Retry-After"] = shared.retry_after(rule.retry_after)
    if rule.body is not None:
        await send_raw(send, status, rule.body.encode(), "text/html", headers)
    else:
        payload = json_bytes({"text": reason(status)})
        await send_raw(send, status, payload, "application/json", headers)


__all__ = [
    "ConnectionClosedByFault",
    "ConnectionResetByFault",
    "FaultInjector",
    "FaultRule",
    "apply_fault",
]
