"""Documents octi-tanium writes and reads back (plans, snapshots): read as JSON, validated,
every refusal naming the file, the position or field, and what to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from controller.errors import UserError


def read_json(path: Path, *, what: str, error: type[UserError], hint: str = "") -> Any:
    """The parsed JSON of `path`; `error` naming `path` (and line:col) when it cannot be."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}{hint}") from exc
    except json.JSONDecodeError as exc:
        raise error(
            f"{path}:{exc.lineno}:{exc.colno}: not a {what} (invalid JSON: {exc.msg})"
        ) from exc


def first_problem(exc: ValidationError) -> str:
    """`at <field path>: <message>` of a validation error's first problem."""
    first = exc.errors()[0]
    return f"at {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
