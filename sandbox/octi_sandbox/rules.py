"""Bookkeeping shared by the emulators' fault injectors: one active rule and its counters."""

from __future__ import annotations

import random
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

    def fires(self, rng: random.Random, rules: list[ActiveRule]) -> bool:
        """One matching call: let it through (`after`, `probability`) or fire, counting down
        `remaining` and dropping the rule from `rules` when it is spent."""
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.rule.probability < 1 and rng.random() >= self.rule.probability:
            return False
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                rules.remove(self)
        return True
