"""Fault injection on `/graphql` (test routes are never faulted).

A rule matches a request by `operation` (its operationName), `field` (a root field it uses)
and `on` (`query` / `mutation` / `any`). Each match is first let through `after` times, then
triggers with `probability` (seeded generator: a reproducible random rate); `times` limits
how many calls it fails ("fail the next N"). Latency rules add up and let the call proceed;
the first other triggered rule answers in place of the emulator:

- `rate_limit`: 429 `{"message": "Too many requests, please try again later."}` + Retry-After;
- `status`: an HTTP error (default 502) with a proxy-like body;
- `timeout`: hold the request `hold_seconds` (the client times out first), then answer 504;
- `reset`: drop the connection (TCP reset) before answering;
- `lock_error` / `graphql_error`: HTTP 200 with `data.<field>: null` and a GraphQL error
  (`LOCK_ERROR`, or `code` e.g. `DATABASE_ERROR`, `FUNCTIONAL_ERROR`).
"""

from __future__ import annotations

import random
from itertools import count
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from octi_sandbox.rules import ActiveRule

FaultKind = Literal[
    "latency", "rate_limit", "status", "timeout", "reset", "lock_error", "graphql_error"
]


class FaultRule(BaseModel):
    """One rule, as posted to `POST /__sandbox/faults` (snake_case or camelCase keys)."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    kind: FaultKind
    operation: str | None = None
    field: str | None = None
    on: Literal["any", "query", "mutation"] = "any"
    status: int = Field(default=502, ge=400, le=599)
    retry_after: float | None = Field(default=1.0, ge=0)
    code: str = "DATABASE_ERROR"
    message: str | None = None
    latency_ms: float = Field(default=0, ge=0)
    hold_seconds: float = Field(default=30.0, ge=0)
    probability: float = Field(default=1.0, ge=0, le=1)
    times: int | None = Field(default=None, ge=1)
    after: int = Field(default=0, ge=0)

    def matches(self, operation: str | None, fields: list[str], kind: str) -> bool:
        if self.operation is not None and self.operation != operation:
            return False
        if self.field is not None and self.field not in fields:
            return False
        return self.on == "any" or self.on == kind


_Active = ActiveRule


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[_Active] = []
        self.rng = random.Random(seed)
        self._ids = count(1)
        self.injected: dict[str, int] = {}

    def add(self, rule: FaultRule) -> int:
        active = _Active(next(self._ids), rule, rule.times, rule.after)
        self.rules.append(active)
        return active.id

    def clear(self, seed: int | None = None) -> None:
        self.rules.clear()
        self.rng = random.Random(seed)

    def to_json(self) -> list[dict[str, Any]]:
        return [a.to_json() for a in self.rules]

    def decide(
        self, operation: str | None, fields: list[str], kind: str
    ) -> tuple[float, FaultRule | None]:
        """(added latency in seconds, the answering rule or None) for one request."""
        delay, chosen = 0.0, None
        for active in list(self.rules):
            rule = active.rule
            if not rule.matches(operation, fields, kind):
                continue
            if not active.fires(self.rng, self.rules):
                continue
            delay += rule.latency_ms / 1000.0
            if rule.kind != "latency":
                chosen = rule
                self.injected[rule.kind] = self.injected.get(rule.kind, 0) + 1
                break
        return delay, chosen
