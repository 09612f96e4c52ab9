"""Fault injection on `/graphql` (test routes are never faulted).

A rule matches a request by `operation` (its operationName), `field` (a root field it uses)
and `on` (`query` / `mutation` / `any`); when it fires is decided by the shared injector
(`octi_sandbox.faults`: `after`, `probability`, `times` — "fail the next N"). Latency rules
add up and let the call proceed; the first other triggered rule answers in place of the
emulator:

- `rate_limit`: 429 `{"message": "Too many requests, please try again later."}` + Retry-After;
- `status`: an HTTP error (default 502) with a proxy-like body;
- `timeout`: hold the request `hold_seconds` (the client times out first), then answer 504;
- `reset`: drop the connection (TCP reset) before answering;
- `lock_error` / `graphql_error`: HTTP 200 with `data.<field>: null` and a GraphQL error
  (`LOCK_ERROR`, or `code` e.g. `DATABASE_ERROR`, `FUNCTIONAL_ERROR`).
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import Field

from octi_sandbox import faults as shared
from octi_sandbox.faults import FaultRuleBase

FaultKind = Literal[
    "latency", "rate_limit", "status", "timeout", "reset", "lock_error", "graphql_error"
]


class FaultRule(FaultRuleBase):
    """One rule, as posted to `POST /__sandbox/faults` (snake_case or camelCase keys)."""

    kind: FaultKind
    operation: str | None = None
    field: str | None = None
    on: Literal["any", "query", "mutation"] = "any"
    status: int = Field(default=502, ge=400, le=599)
    retry_after: float | None = Field(default=1.0, ge=0)
    code: str = "DATABASE_ERROR"
    message: str | None = None
    hold_seconds: float = Field(default=30.0, ge=0)

    def matches(self, operation: str | None, fields: list[str], kind: str) -> bool:
        if self.operation is not None and self.operation != operation:
            return False
        if self.field is not None and self.field not in fields:
            return False
        return self.on == "any" or self.on == kind


class Faults(shared.FaultInjector[FaultRule]):
    """The shared injector, matching GraphQL requests by operation, root fields and kind."""

    @property
    def injected(self) -> Counter[str]:
        """Answers injected by kind since the last reset."""
        return self.counts

    def decide(
        self, operation: str | None, fields: list[str], kind: str
    ) -> tuple[float, FaultRule | None]:
        """(added latency in seconds, the answering rule or None) for one request."""
        return self.pick(lambda rule: rule.matches(operation, fields, kind))
