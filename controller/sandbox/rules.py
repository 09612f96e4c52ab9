"""Bookkeeping shared by the emulators' fault injectors: one active rule and its counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ActiveRule:
    """A posted fault rule: `remaining` calls it may still fail ("fail the next N"), `skip`
    matching calls it lets through first, `hits` how often it fired."""

    id: int
    rule: Any
    remaining: int | None
    skip: int
    hits: int = 0

    def to_json(self) -> dict[str, Any]:
        data = self.rule.model_dump(by_alias=True, exclude_none=True)
        return {"id": self.id, **data, "remaining": self.remaining, "hits": self.hits}
