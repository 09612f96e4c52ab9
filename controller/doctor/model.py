"""The doctor's result: one `Check` per assumption. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "fail", "skip"]
SYMBOL = {"ok": "✓", "fail": "✗", "skip": "-"}


@dataclass(frozen=True)
class Check:
    product: str
    """`Tanium`, `OpenCTI` or `settings`."""
    name: str
    status: Status
    detail: str = ""
    """What was seen."""
    fix: str = ""
    """What to do about a failure (empty when ok)."""

    def line(self) -> str:
        text = f"{SYMBOL[self.status]} {self.product}: {self.name}"
        if self.detail:
            text += f" — {self.detail}"
        if self.fix and self.status != "ok":
            text += f"\n    → {self.fix}"
        return text

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def ok(product: str, name: str, detail: str = "") -> Check:
    return Check(product, name, "ok", detail)


def fail(product: str, name: str, detail: str, fix: str) -> Check:
    return Check(product, name, "fail", detail, fix)


def skip(product: str, name: str, detail: str) -> Check:
    return Check(product, name, "skip", detail)


def exit_code(checks: list[Check]) -> int:
    """1 when any check failed, else 0."""
    return 1 if any(c.status == "fail" for c in checks) else 0
