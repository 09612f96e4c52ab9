"""Seeding the emulator: STIX bundles, JSON lists of objects, stream events — and API creates.

Seeding from a file keeps absent fields absent (no `x_opencti_detection` → null, no score →
null, no timestamps → OpenCTI's "no date" sentinel in the non-null `created_at`), so that
`--source opencti` against a seeded emulator reads exactly what `--source bundle:` reads from
the same file. The bundle is read by the emulator's own STIX reader (`stix.py`), written
independently of the controller's, so the equivalence test compares two implementations.

Objects created through the test hook (`create_indicator`, `create_observable`) get OpenCTI's
defaults instead (§12): computed standard id, validity window by main observable type,
score 50, detection false, `revoked` when already expired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

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
from octi_sandbox.opencti.stix import (
    Entity,
    NotImportable,
    marking_definitions,
    objects_of,
    read_entity,
)
from octi_sandbox.opencti.store import Store


def _decorate(store: Store, record: Record, entity: Entity) -> Record:
    record["objectLabel"] = [store.label(v) for v in entity.labels]
    record["objectMarking"] = [store.marking(name) for name in entity.markings]
    return record


def indicator_from(store: Store, entity: Entity) -> Record:
    created_at = entity.created_at or entity.created or store.clock.now()
    record = base(
        "Indicator",
        "Indicator",
        INDICATOR_PARENTS,
        entity.stix_id,
        entity.internal_id,
        created_at,
        entity.updated_at or entity.modified or created_at,
    )
    record.update(
        name=entity.name,
        description=entity.description or None,
        pattern=entity.pattern,
        pattern_type=entity.pattern_type,
        pattern_version="2.1" if entity.pattern_type == "stix" else None,
        valid_from=entity.valid_from,
        valid_until=entity.valid_until,
        revoked=entity.revoked,
        x_opencti_detection=entity.detection,
        x_mitre_platforms=list(entity.platforms),
        x_opencti_main_observable_type=entity.main_observable_type,
        x_opencti_score=entity.score,
        confidence=entity.confidence,
        created=entity.created,
        modified=entity.modified,
        indicator_types=entity.indicator_types,
    )
    return _decorate(store, record, entity)


def observable_from(store: Store, entity: Entity) -> Record:
    kind = typename(entity.entity_type)
    record = base(
        kind,
        entity.entity_type,
        OBSERVABLE_PARENTS,
        entity.stix_id,
        entity.internal_id,
        entity.created or FROM_START,
        entity.modified or FROM_START,
    )
    first_hash = next(iter(entity.hashes.values()), None)
    record.update(
        x_opencti_score=entity.score,
        x_opencti_description=entity.description or None,
        observable_value=entity.value or first_hash or entity.name or entity.stix_id,
        _hashes=dict(entity.hashes),
    )
    if kind in VALUE_FIELD:
        record[VALUE_FIELD[kind]] = entity.value
    if kind in NAMED_TYPES:
        record["name"] = entity.name or None
    if kind == "AutonomousSystem":
        record["number"] = entity.number
    if kind in HASHED_TYPES:
        record["hashes"] = hash_list(entity.hashes)
    return _decorate(store, record, entity)


def load_records(store: Store, records: Iterable[Any]) -> dict[str, int]:
    """Seed from decoded JSON records (STIX objects or stream events). Returns counts."""
    objects = objects_of(records)
    names = marking_definitions(objects)
    counts = {"indicators": 0, "observables": 0, "relationships": 0, "ignored": 0}
    # Meta objects first, so that references resolve wherever they sit in the file.
    for obj in objects:
        if obj.get("type") == "marking-definition" and obj.get("id") in names:
            store.marking(names[obj["id"]], obj["id"])
        elif obj.get("type") == "identity" and isinstance(obj.get("name"), str):
            store.identity(
                obj["name"],
                str(obj.get("identity_class") or "organization"),
                obj.get("id") if isinstance(obj.get("id"), str) else None,
            )
    for obj in objects:
        stix_type = obj.get("type")
        if stix_type == "identity" and isinstance(obj.get("name"), str):
            continue
        try:
            entity = read_entity(obj, names)
        except NotImportable:
            counts["ignored"] += 1
            continue
        if entity is None:
            counts["ignored"] += stix_type not in ("relationship", "marking-definition")
            continue
        if entity.is_indicator:
            record = store.put(indicator_from(store, entity))
            counts["indicators"] += 1
        else:
            record = store.put(observable_from(store, entity))
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
    entity = Entity(
        stix_id=standard_id("indicator", {"pattern": pattern.strip()}),
        entity_type="Indicator",
        name=name or pattern,
        description=description or "",
        pattern=pattern,
        pattern_type=pattern_type,
        valid_from=start,
        valid_until=until,
        revoked=until <= now,
        detection=False if detection is None else detection,
        platforms=list(platforms),
        main_observable_type=main,
        score=50 if score is None else score,
        confidence=confidence,
        labels=list(labels),
        markings=list(markings),
        created=now,
        modified=now,
    )
    return store.put(indicator_from(store, entity))


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
    entity = Entity(
        stix_id=observable_standard_id(entity_type, value, hashes, name),
        entity_type=entity_type,
        value=value if value is not None else name,
        hashes=hashes,
        name=name or "",
        description=description or "",
        score=score,
        labels=list(labels),
        markings=list(markings),
        created=now,
        modified=now,
    )
    return store.put(observable_from(store, entity))
