"""Mutations the controller's sightings loop uses: sightings (with OpenCTI's upsert), identities.

`stixSightingRelationshipAdd` (§8): ends resolved by any id (unknown → MISSING_REFERENCE_ERROR);
omitted dates default to OpenCTI's sentinels; an existing sighting is reused when its ids
match or when from/to are the same and both dates lie within ±30 days — then the dates widen
and `attribute_count` grows only if a date actually widened. Both ends get `refreshed_at`
bumped, not `updated_at`. `systemAdd` / `identityAdd` upsert by (lower-cased name, class).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import GraphQLResolveInfo

from octi_sandbox.opencti.context import Context
from octi_sandbox.opencti.errors import functional, missing_reference, octi_error
from octi_sandbox.opencti.records import (
    FROM_START,
    UNTIL_END,
    Record,
    base,
    internal_id_for,
    standard_id,
)

DEDUP_WINDOW = timedelta(days=30)
_IDENTITY_CLASS = {
    "System": "system",
    "Organization": "organization",
    "Individual": "individual",
    "Sector": "class",
}


def _ctx(info: GraphQLResolveInfo[Context]) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context


def _date(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise functional(f"Invalid date {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _js(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sighting_add(_: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Record:
    store = _ctx(info).store
    source, target = store.resolve(input.get("fromId")), store.resolve(input.get("toId"))
    for key, found in (("fromId", source), ("toId", target)):
        if found is None:
            raise missing_reference("Element not found", id=input.get(key))
    assert source is not None and target is not None
    first, last = _date(input.get("first_seen")), _date(input.get("last_seen"))
    contributing: dict[str, Any] = {
        "type": "sighting",
        "sighting_of_ref": source["standard_id"],
        "where_sighted_refs": [target["standard_id"]],
    }
    if first is not None:
        contributing["first_seen"] = _js(first)
    if last is not None:
        contributing["last_seen"] = _js(last)
    standard = standard_id("sighting", contributing)
    first, last = first or FROM_START, last or UNTIL_END
    if first > last:
        raise functional(
            "You cant create a sighting with first_seen > last_seen",
            first_seen=_js(first),
            last_seen=_js(last),
        )
    count = int(input["attribute_count"])
    stix_id = str(input.get("stix_id") or "").lower()
    now = store.clock.now()
    existing = _match(store.sightings.values(), standard, stix_id, source, target, first, last)
    if existing is not None:
        widened = first < existing["first_seen"] or last > existing["last_seen"]
        existing["first_seen"] = min(first, existing["first_seen"])
        existing["last_seen"] = max(last, existing["last_seen"])
        if widened:
            existing["attribute_count"] += count
        if input.get("x_opencti_negative") is not None:
            existing["x_opencti_negative"] = bool(input["x_opencti_negative"])
        existing["updated_at"] = now
        record = existing
    else:
        record = base(
            "StixSightingRelationship",
            "stix-sighting-relationship",
            ["basic-relationship", "stix-relationship"],
            standard,
            None,
            now,
            now,
        )
        record.update(
            id=internal_id_for(standard + now.isoformat()),
            fromId=source["id"],
            toId=target["id"],
            fromType=source["entity_type"],
            toType=target["entity_type"],
            first_seen=first,
            last_seen=last,
            attribute_count=count,
            description=input.get("description"),
            x_opencti_negative=bool(input.get("x_opencti_negative") or False),
            confidence=input.get("confidence"),
            created=now,
            modified=now,
            **{"from": source, "to": target},
        )
        if stix_id and stix_id != standard:
            record["x_opencti_stix_ids"].append(stix_id)
        store.sightings[record["id"]] = record
        store.alias(record, record["id"])
        store.alias(record, standard)
    for end in (source, target):
        end["refreshed_at"] = now
    store.changed()
    return record


def _match(
    sightings: Any,
    standard: str,
    stix_id: str,
    source: Record,
    target: Record,
    first: datetime,
    last: datetime,
) -> Record | None:
    for sighting in sightings:
        ids = {sighting["standard_id"], *sighting["x_opencti_stix_ids"]}
        if standard in ids or (stix_id and stix_id in ids):
            return sighting  # type: ignore[no-any-return]
    for sighting in sightings:
        if (
            sighting["fromId"] == source["id"]
            and sighting["toId"] == target["id"]
            and abs(sighting["first_seen"] - first) <= DEDUP_WINDOW
            and abs(sighting["last_seen"] - last) <= DEDUP_WINDOW
        ):
            return sighting  # type: ignore[no-any-return]
    return None


def system_add(_: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Record:
    name = str(input["name"])
    if len(name.strip()) < 2:
        raise octi_validation("name", "name must be at least 2 characters, not blank")
    return _ctx(info).store.identity(name, "system", input.get("stix_id"))


def identity_add(_: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Record:
    name = str(input["name"])
    if not name.strip():
        raise octi_validation("name", "name must not be blank")
    return _ctx(info).store.identity(
        name, _IDENTITY_CLASS[str(input["type"])], input.get("stix_id")
    )


def octi_validation(field: str, message: str) -> Exception:
    return octi_error("VALIDATION_ERROR", message, field=field)


MUTATIONS = {
    "stixSightingRelationshipAdd": sighting_add,
    "systemAdd": system_add,
    "identityAdd": identity_add,
}
