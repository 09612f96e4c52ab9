"""The JSON Schemas in schemas/, generated from the models (CI checks they are current)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from controller.core.plan import PLAN_ADAPTER


def plan_schema() -> dict[str, Any]:
    schema = PLAN_ADAPTER.json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "octi-tanium plan"
    return schema


def producers() -> dict[str, Callable[[], dict[str, Any]]]:
    from controller.policy.schema import policy_schema

    return {"policy.schema.json": policy_schema, "plan.schema.json": plan_schema}


def write_all(out_dir: Path, *, check: bool) -> list[str]:
    from controller.policy.schema import write_schemas

    return write_schemas(out_dir, check=check, producers=producers())
