"""JSON Schemas generated from the models, so editors validate policies while typing.

`write_schemas` (re)generates `schemas/`; with `check` it only reports which files are stale
(CI runs `octi-tanium schema --check`). Other schemas (the plan's) join through `producers=`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from controller.policy.models import API_VERSION, Document

SchemaFactory = Callable[[], dict[str, Any]]
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def policy_schema() -> dict[str, Any]:
    """A JSON Schema for one policy document of any kind (camelCase keys, unknown keys refused).

    Per-document rules only: duplicate names, conflicts between documents and the content of
    static intel are checked by `octi-tanium validate`.
    """
    generated = TypeAdapter(Document).json_schema(by_alias=True, mode="validation")
    for definition in generated.get("$defs", {}).values():
        for prop in definition.get("properties", {}).values():
            prop.pop("title", None)  # "Minscore": the key says it better
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": f"octi-tanium policy document ({API_VERSION})",
        "description": (
            "One document of a policy file: IntelPolicy, StaticIntel, Exclusion or Settings. "
            "Generated from controller/policy/models.py by `octi-tanium schema`; do not edit."
        ),
        **generated,
    }


SCHEMAS: dict[str, SchemaFactory] = {"policy.schema.json": policy_schema}
"""File name in `schemas/` → the function producing that schema."""


def render_schema(schema: Mapping[str, Any]) -> str:
    """Byte-stable text of a schema (what is written and what `--check` compares)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(
    out_dir: Path, check: bool = False, producers: Mapping[str, SchemaFactory] | None = None
) -> list[str]:
    """Names of the schema files that differ from what the models produce.

    With `check`, nothing is written (non-empty result = stale, CI fails); without, those
    files are (re)written and their names returned.
    """
    stale: list[str] = []
    for name, produce in (SCHEMAS if producers is None else producers).items():
        text = render_schema(produce())
        path = out_dir / name
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        stale.append(name)
        if not check:
            out_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return stale
