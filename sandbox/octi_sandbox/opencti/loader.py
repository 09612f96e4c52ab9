"""Seeding the emulator: STIX bundles, JSON lists of objects, stream events — and API creates.

Seeding from a file keeps absent fields absent (no `x_opencti_detection` → null, no score →
null, no timestamps → OpenCTI's "no date" sentinel in the non-null `created_at`), so that
`--source opencti` against a seeded emulator reads exactly what `--source bundle:` reads from
the same file. The bundle is read with the project's own STIX reader
(`controller.sources.stix`), so both sides agree on every tolerant parsing choice.

Objects created through the test hook (`create_indicator`, `create_observable`) get OpenCTI's
defaults instead (§12): computed standard id, validity window by main observable type,
score 50, detection false, `revoked` when already expired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from controller.model import SourceObject
from controller.sources.stix import (
    OPENCTI_EXT,
    UnreadableObject,
    marking_names,
    to_source_object,
    unwrap,
)
from octi_sandbox.opencti.records import (
    FROM_START,
    HASHED_TYPES,
    INDICATOR_PARENTS,
    NAMED_TYPES,
    OBSERVABLE_PARENTS,
    VALUE_FIELD,
    Record,
    base,
    hash_list,
    lifetime,
    main_observable_type,
    observable_standard_id,
    standard_id,
    typename,
)
from octi_sandbox.opencti.store import Store


def _opencti_times(raw: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    ext = (raw.get("extensions") or {}).get(OPENCTI_EXT) or {}
    return _date(ext.get("created_at")), _date(ext.get("updated_at"))


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _decorate(store: Store, record: Record, obj: SourceObject) -> Record:
    record["objectLabel"] = [store.label(v) for v in obj.labels]
    record["objectMarking"] = [store.marking(name) for name in obj.markings]
    return record


def indicator_from(store: Store, obj: SourceObject, raw: Mapping[str, Any]) -> Record:
    created_at, updated_at = _opencti_times(raw)
    created_at = created_at or obj.created or store.clock.now()
    record = base(
        "Indicator",
        "Indicator",
        INDICATOR_PARENTS,
        obj.standard_id,
        obj.internal_id,
        created_at,
        updated_at or obj.modified or created_at,
    )
    record.update(
        name=obj.name,
        description=obj.description or None,
        pattern=obj.pattern,
        pattern_type=obj.pattern_type,
        pattern_version="2.1" if obj.pattern_type == "stix" else None,
        valid_from=obj.valid_from,
        valid_until=obj.valid_until,
        revoked=obj.revoked,
        x_opencti_detection=obj.detection,
        x_mitre_platforms=list(obj.platforms),
        x_opencti_main_observable_type=obj.main_observable_type,
        x_opencti_score=obj.score,
        confidence=obj.confidence,
        created=obj.created,
        modified=obj.modified,
        indicator_types=raw.get("indicator_types")
        if isinstance(raw.get("indicator_types"), list)
        else None,
    )
    return _decorate(store, record, obj)


def observable_from(store: Store, obj: SourceObject, raw: Mapping[str, Any]) -> Record:
    kind = typename(obj.entity_type)
    record = base(
        kind,
        obj.entity_type,
        OBSERVABLE_PARENTS,
        obj.standard_id,
        obj.internal_id,
        obj.created or FROM_START,
        obj.modified or FROM_START,
    )
    first_hash = next(iter(obj.hashes.values()), None)
    record.update(
        x_opencti_score=obj.score,
        x_opencti_description=obj.description or None,
        observable_value=obj.value or first_hash or obj.name or obj.standard_id,
        _hashes=dict(obj.hashes),
    )
    if kind in VALUE_FIELD:
        record[VALUE_FIELD[kind]] = obj.value
    if kind in NAMED_TYPES:
        record["name"] = obj.name or None
    if kind == "AutonomousSystem":
        number = raw.get("number")
        record["number"] = (
            number
            if isinstance(number, int) and not isinstance(number, bool)
            else (int(number) if isinstance(number, str) and number.isdigit() else None)
        )
    if kind in HASHED_TYPES:
        record["hashes"] = hash_list(obj.hashes)
    return _decorate(store, record, obj)


def load_records(store: Store, records: Iterable[Any]) -> dict[str, int]:
    """Seed from decoded JSON records (STIX objects or stream events). Returns counts."""
    objects = unwrap(records)
    names = marking_names(objects)
    counts = {"indicators": 0, "observables": 0, "relationships": 0, "ignored": 0}
    for obj in objects:
        if obj.get("type") == "marking-definition" and obj.get("id") in names:
            store.marking(names[obj["id"]], obj["id"])
    for obj in objects:
        stix_type = obj.get("type")
        if stix_type == "identity" and isinstance(obj.get("name"), str):
            store.identity(
                obj["name"],
                str(obj.get("identity_class") or "organization"),
                obj.get("id") if isinstance(obj.get("id"), str) else None,
            )
            continue
        try:
            mapped = to_source_object(obj, names)
        except UnreadableObject:
            counts["ignored"] += 1
            continue
        if mapped is None:
            counts["ignored"] += stix_type not in ("relationship", "marking-definition")
            continue
        if mapped.is_indicator:
            record = store.put(indicator_from(store, mapped, obj))
            counts["indicators"] += 1
        else:
            record = store.put(observable_from(store, mapped, obj))
            counts["observables"] += 1
        author = store.resolve(obj.get("created_by_ref"))
        record["createdBy"] = (
            author if author is not None and author.get("identity_class") else None
        )
    for obj in objects:
        if obj.get("type") == "relationship" and obj.get("relationship_type") == "based-on":
            source, target = (
                store.resolve(obj.get("source_ref")),
                store.resolve(obj.get("target_ref")),
            )
            if source is not None and target is not None:
                store.link(source, target)
                counts["relationships"] += 1
    return counts


def load_data(store: Store, data: Any) -> dict[str, int]:
    """A decoded bundle (`{"objects": [...]}`), a JSON list, or a single object."""
    if isinstance(data, dict) and isinstance(data.get("objects"), list):
        return load_records(store, data["objects"])
    if isinstance(data, list):
        return load_records(store, data)
    if isinstance(data, dict) and "type" in data:
        return load_records(store, [data])
    raise ValueError("not a STIX bundle, a JSON list of STIX objects, or stream events")


# --------------------------------------------------------------------------- API-style creates


def create_indicator(
    store: Store,
    *,
    pattern: str,
    pattern_type: str = "stix",
    name: str | None = None,
    description: str | None = None,
    labels: Sequence[str] = (),
    markings: Sequence[str] = (),
    score: int | None = None,
    detection: bool | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    platforms: Sequence[str] = (),
    main_type: str | None = None,
    confidence: int | None = None,
) -> Record:
    """An indicator as `indicatorAdd` would create it (OpenCTI's defaults, §6 / §12)."""
    now = store.clock.now()
    main = main_type or main_observable_type(pattern, pattern_type)
    start = valid_from or now
    until = valid_until or start + lifetime(main)
    obj = SourceObject(
        standard_id=standard_id("indicator", {"pattern": pattern.strip()}),
        entity_type="Indicator",
        name=name or pattern,
        description=description or "",
        pattern=pattern,
        pattern_type=pattern_type,
        valid_from=start,
        valid_until=until,
        revoked=until <= now,
        detection=False if detection is None else detection,
        platforms=tuple(platforms),
        main_observable_type=main,
        score=50 if score is None else score,
        confidence=confidence,
        labels=tuple(labels),
        markings=tuple(markings),
        created=now,
        modified=now,
    )
    return store.put(indicator_from(store, obj, {}))


def create_observable(
    store: Store,
    *,
    entity_type: str,
    value: str | None = None,
    hashes: Mapping[str, str] | None = None,
    name: str | None = None,
    description: str | None = None,
    labels: Sequence[str] = (),
    markings: Sequence[str] = (),
    score: int | None = None,
) -> Record:
    """An observable as `stixCyberObservableAdd` would create it (standard id per §7)."""
    now = store.clock.now()
    hashes = dict(hashes or {})
    obj = SourceObject(
        standard_id=observable_standard_id(entity_type, value, hashes, name),
        entity_type=entity_type,
        value=value if value is not None else name,
        hashes=hashes,
        name=name or "",
        description=description or "",
        score=score,
        labels=tuple(labels),
        markings=tuple(markings),
        created=now,
        modified=now,
    )
    return store.put(observable_from(store, obj, {}))
