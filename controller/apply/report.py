"""What an apply did, item by item: the value the executor returns and the CLI renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from controller.core.plan import PlanItem

Status = Literal["ok", "failed", "blocked", "skipped"]


@dataclass(frozen=True)
class ItemResult:
    item: PlanItem
    status: Status
    message: str = ""
    tanium_id: int | None = None
    temporary: bool = False
    """For a failure: whether the same write may succeed later (Tanium unavailable, 429)."""


@dataclass
class ApplyReport:
    results: list[ItemResult] = field(default_factory=list)

    def __repr__(self) -> str:  # the default would print every result (see `Outcome`)
        statuses: dict[str, int] = {}
        for result in self.results:
            statuses[result.status] = statuses.get(result.status, 0) + 1
        return f"ApplyReport({statuses})"

    def count(self, status: Status, action: str | None = None) -> int:
        return sum(
            1
            for r in self.results
            if r.status == status
            and (action is None or r.item.action == action)
            and r.item.kind in ("intel", "blocklist")
        )

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "failed"]

    def exit_code(self) -> int:
        if self.failed:
            return 1
        if any(r.status == "blocked" for r in self.results):
            return 3
        return 0
