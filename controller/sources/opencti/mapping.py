"""GraphQL nodes (as `queries.py` selects them) → `SourceObject`. Pure.

The contract: for one OpenCTI object, this produces exactly what `controller.sources.stix`
produces from the STIX export of the same object — same standard id, entity type, labels (in
order), marking names (TLP:WHITE read as TLP:CLEAR), score, detection (None when unknown),
platforms, pattern and pattern type (lower-case, `stix` when absent), validity, revocation,
hashes (keys as OpenCTI spells them, e.g. `SHA-256`), value, description, name, timestamps.
The bundle-equivalence test pins it.

Repeated values (labels, marking names, pattern types, platforms, timestamps) are shared
between objects, as the STIX reader shares them (`controller.sources.stix._share`, `_time`):
100,000 objects carry a few hundred distinct ones, and parsing a timestamp once is cheaper.

Observables have no `created`/`modified` in GraphQL: STIX exports carry `created_at` and
`updated_at` there, and so do we. OpenCTI's "no date" sentinels (`1970-01-01T00:00:00Z`,
`5138-11-16T09:46:40Z`, which its own `nil` filter treats as absent) read as None.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from controller.core.markings import normalize_marking
from controller.core.model import SourceObject
from controller.core.timestamps import parse_time
from controller.sources.opencti.errors import OpenCTIProtocolError
from controller.sources.stix import _share, _time

FROM_START = datetime(1970, 1, 1, tzinfo=UTC)
UNTIL_END = datetime(5138, 11, 16, 9, 46, 40, tzinfo=UTC)
SENTINEL_DATES = frozenset({FROM_START, UNTIL_END})

# The order `controller.sources.stix` looks for an observable's value in a STIX object
# (`value`, `name`, `path`, `key`, `number`, `user_id`, `subject`), in GraphQL field names.
_VALUE_FIELDS = ("value", "name", "path", "attribute_key", "number", "user_id", "subject")


def marking_name(definition: str) -> str:
    """A marking definition as a policy names it; an unresolved STIX ref stays verbatim."""
    if definition.startswith("marking-definition--"):
        return definition
    return normalize_marking(definition)


parse_date = parse_time


def _real_date(value: Any) -> datetime | None:
    parsed = _time(value)
    if parsed is not None and parsed.tzinfo is not None and parsed in SENTINEL_DATES:
        return None
    return parsed


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _labels(node: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for label in node.get("objectLabel") or ():
        if isinstance(label, Mapping) and isinstance(label.get("value"), str):
            out.append(label["value"])
    return _share(tuple(out)) if out else ()


def _markings(node: Mapping[str, Any]) -> tuple[str, ...]:
    names: set[str] = set()
    for marking in node.get("objectMarking") or ():
        if isinstance(marking, Mapping) and isinstance(marking.get("definition"), str):
            names.add(marking_name(marking["definition"]))
    return _share(tuple(sorted(names))) if names else ()


def _hashes(node: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in node.get("hashes") or ():
        if isinstance(item, Mapping) and item.get("algorithm") and item.get("hash"):
            out[str(item["algorithm"])] = str(item["hash"])
    return out


def _identity(node: Mapping[str, Any], entity_type: Any) -> dict[str, Any]:
    standard_id = node.get("standard_id")
    if not isinstance(standard_id, str) or not isinstance(entity_type, str):
        raise OpenCTIProtocolError(f"a node without standard_id or entity_type: {dict(node)!r}")
    internal_id = node.get("id")
    return {
        "standard_id": standard_id,
        "internal_id": internal_id if isinstance(internal_id, str) else None,
        "entity_type": entity_type,
        "labels": _labels(node),
        "markings": _markings(node),
    }


def _build(fields: dict[str, Any]) -> SourceObject:
    """The mapping above already gives every field its model type, so the object is built
    without a second validation pass (`SourceObject.typed`)."""
    return SourceObject.typed(fields)


def indicator_from_node(node: Mapping[str, Any]) -> SourceObject:
    """An `Indicator` node: its entity type is its GraphQL type, so it is not selected."""
    detection = node.get("x_opencti_detection")
    platforms = node.get("x_mitre_platforms")
    platforms = (
        tuple(p for p in platforms if isinstance(p, str)) if isinstance(platforms, list) else ()
    )
    kind = node.get("x_opencti_main_observable_type")
    observable_type = _share(kind) if isinstance(kind, str) and kind else None
    return _build(
        {
            **_identity(node, "Indicator"),
            "name": str(node.get("name") or ""),
            "description": str(node.get("description") or ""),
            "pattern": node.get("pattern") if isinstance(node.get("pattern"), str) else None,
            "pattern_type": _share(str(node.get("pattern_type") or "stix").lower()),
            "valid_from": _time(node.get("valid_from")),
            "valid_until": _time(node.get("valid_until")),
            "revoked": bool(node.get("revoked")),
            "detection": detection if isinstance(detection, bool) else None,
            "platforms": _share(platforms) if platforms else (),
            "main_observable_type": observable_type,
            "score": _int(node.get("x_opencti_score")),
            "confidence": _int(node.get("confidence")),
            "created": _time(node.get("created")),
            "modified": _time(node.get("modified")),
        }
    )


def observable_value(node: Mapping[str, Any]) -> str | None:
    is_file = node.get("entity_type") == "StixFile"
    for field in _VALUE_FIELDS:
        if field == "name" and is_file:
            continue
        value = node.get(field)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    name = node.get("name")
    return name if is_file and isinstance(name, str) else None


def observable_from_node(node: Mapping[str, Any]) -> SourceObject:
    return _build(
        {
            **_identity(node, node.get("entity_type")),
            "value": observable_value(node),
            "hashes": _hashes(node),
            "name": str(node.get("name") or ""),
            "description": str(node.get("x_opencti_description") or ""),
            "score": _int(node.get("x_opencti_score")),
            "created": _real_date(node.get("created_at")),
            "modified": _real_date(node.get("updated_at")),
        }
    )
