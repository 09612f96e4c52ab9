"""Diagnostics: what went wrong, where (file:line:col), to which object, what to do next."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Position:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity
    message: str
    key: str | None = None
    """The desired-item key when the diagnostic concerns one object."""
    detail: str = ""
    file: str | None = None
    line: int | None = None
    col: int | None = None
    snippet: str = ""
    address: str | None = None
    """Dotted path inside the document (`spec.select.minScore`)."""

    @classmethod
    def error(cls, message: str, **kw: Any) -> Diagnostic:
        return cls._make("error", message, **kw)

    @classmethod
    def warning(cls, message: str, **kw: Any) -> Diagnostic:
        return cls._make("warning", message, **kw)

    @classmethod
    def make(
        cls, severity: Severity, message: str, *, position: Position | None = None, **kw: Any
    ) -> Diagnostic:
        return cls._make(severity, message, position=position, **kw)

    @classmethod
    def _make(
        cls, severity: Severity, message: str, *, position: Position | None = None, **kw: Any
    ) -> Diagnostic:
        if position is not None:
            kw.update(file=position.file, line=position.line, col=position.col)
        return cls(severity=severity, message=message, **kw)

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}:{self.col}"

    def text(self) -> str:
        head = f"{self.where}: " if self.where else ""
        out = f"{self.severity}: {head}{self.message}"
        if self.detail:
            out += f"\n  {self.detail}"
        if self.snippet:
            out += "\n" + self.snippet
        return out

    def terraform_json(self) -> dict[str, Any]:
        """The shape of one entry of `terraform validate -json`'s `diagnostics`."""
        entry: dict[str, Any] = {
            "severity": self.severity,
            "summary": self.message,
            "detail": self.detail,
        }
        if self.file is not None and self.line is not None and self.col is not None:
            entry["range"] = {
                "filename": self.file,
                "start": {"line": self.line, "column": self.col},
                "end": {"line": self.line, "column": self.col + 1},
            }
        if self.address:
            entry["address"] = self.address
        if self.snippet:
            entry["snippet"] = {"code": self.snippet}
        return entry


def did_you_mean(word: str, options: Iterable[str]) -> str:
    candidates = list(options)
    lowered = {o.lower(): o for o in candidates}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"; did you mean '{lowered[word.lower()]}'?"
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def known_keys_at(kind: str, loc: Sequence[int | str]) -> list[str]:
    """The camelCase keys a policy document accepts at `loc` (for 'did you mean')."""
    from controller.policy import models

    root: dict[str, type[BaseModel]] = {
        "IntelPolicy": models.IntelPolicy,
        "StaticIntel": models.StaticIntel,
        "Exclusion": models.Exclusion,
        "Settings": models.Settings,
    }
    model: Any = root.get(kind)
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = _field_by_alias(model, part)
        if field is None:
            return []
        model = _model_of(field.annotation)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _field_by_alias(model: type[BaseModel], alias: str) -> Any:
    for name, f in model.model_fields.items():
        if (f.alias or name) == alias or name == alias:
            return f
    return None


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def count(diagnostics: Iterable[Diagnostic], severity: Severity) -> int:
    return sum(1 for d in diagnostics if d.severity == severity)
