"""The verdict on one piece of content: fine, fine with warnings, or an error that says why."""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.diagnostics import Severity


@dataclass(frozen=True)
class Problem:
    severity: Severity
    message: str
    """What is wrong, without where (signals say their column in the message)."""
    line: int | None = None
    """1-based line inside the content."""
    rule: str | None = None
    """The YARA rule that line belongs to."""
    text: str = ""
    """The content line itself, stripped."""

    def located(self) -> str:
        """`rule 'r', line 5: syntax error` — where inside the content, then what."""
        where = f"line {self.line}" if self.line else ""
        if self.rule:
            where = f"rule '{self.rule}', {where}" if where else f"rule '{self.rule}'"
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Verdict:
    """What `validate` and `plan` both decide from: an error means the content does not go to
    Tanium (and fails `validate` when it is held in Git); warnings do not stop it."""

    problems: tuple[Problem, ...] = ()
    rules: tuple[str, ...] = ()
    """YARA: the rule names, in file order (private and global rules included)."""
    expression: str = ""
    """Tanium Signals: the expression to send (the `contents` of a JSON signal document)."""

    @property
    def error(self) -> Problem | None:
        return next((p for p in self.problems if p.severity == "error"), None)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return self.error is None
