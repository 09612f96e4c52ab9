"""Plan files: save a plan value to disk and load it back, refusing what is not a plan."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from controller.core.plan import (
    FORMAT_VERSION,
    PLAN_ADAPTER,
    READABLE_VERSIONS,
    Plan,
    to_json,
    with_copy_keys,
)
from controller.errors import UserError
from controller.jsonfile import first_problem, read_json


class PlanFileError(UserError):
    """The file is not a plan octi-tanium can apply (unreadable, not JSON, other version)."""


def save_plan(plan: Plan, path: Path) -> None:
    path.write_text(to_json(plan), encoding="utf-8")


def load_plan(path: Path) -> Plan:
    data = read_json(path, what="plan file", error=PlanFileError)
    version = data.get("format_version") if isinstance(data, dict) else None
    if version not in READABLE_VERSIONS:
        raise PlanFileError(
            f"{path}: plan format_version {version!r} is not supported (expected "
            f"{FORMAT_VERSION!r}); make the plan again with this version of octi-tanium"
        )
    try:
        plan = PLAN_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise PlanFileError(f"{path}: invalid plan {first_problem(exc)}") from exc
    return with_copy_keys(plan)
