"""STIX 2.1 as OpenCTI imports it: the emulator's own reading of bundles and stream events.

Written from the STIX 2.1 specification and the OpenCTI export facts (`opencti-api.md` §6, §7,
§9), independently of the controller's bundle reader — so that "`--source opencti` against a
seeded emulator reads what `--source bundle:` reads" compares two implementations.

What OpenCTI puts where in an export:

- SDOs (indicators) carry OpenCTI's own fields as `x_opencti_*` properties, or (6.x+) inside
  the property extension `extension-definition--ea279b3e-…` (`id`, `score`, `detection`,
  `main_observable_type`, `created_at`, `updated_at`, `labels`);
- SCOs (observables) carry them in `extension-definition--f93e2c80-…` (`score`,
  `description`, `labels`) or as `x_opencti_*` properties;
- labels are strings, or `{value, color}` objects in OpenCTI's own JSON;
- hashes are a STIX dictionary, or OpenCTI's `[{algorithm, hash}]` list.

Data is read tolerantly: a field of the wrong type reads as absent; an indicator or observable
whose id is not `<type>--<uuid>` is not imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SDO_EXTENSION = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba"
SCO_EXTENSION = "extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82"

TLP_MARKINGS: dict[str, str] = {
    # TLP 1.0, STIX 2.1 §7.2.1.4 (TLP:WHITE is TLP 2.0's TLP:CLEAR)
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "TLP:CLEAR",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "TLP:GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "TLP:AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "TLP:RED",
    # TLP 2.0 (OASIS-published ids)
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "TLP:CLEAR",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "TLP:GREEN",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "TLP:AMBER",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "TLP:AMBER+STRICT",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "TLP:RED",
    # the id OpenCTI's own platform gives TLP:AMBER+STRICT
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": "TLP:AMBER+STRICT",
}
"""The standard TLP marking definitions, by id: a bundle cannot rename them."""

UNRESOLVED_MARKING = "UNKNOWN:"
"""Name prefix of a marking whose definition is neither standard nor in the bundle."""

ENTITY_TYPES: dict[str, str] = {
    "indicator": "Indicator",
    "ipv4-addr": "IPv4-Addr",
    "ipv6-addr": "IPv6-Addr",
    "domain-name": "Domain-Name",
    "hostname": "Hostname",
    "url": "Url",
    "file": "StixFile",
    "artifact": "Artifact",
    "email-addr": "Email-Addr",
    "email-message": "Email-Message",
    "mac-addr": "Mac-Addr",
    "process": "Process",
    "windows-registry-key": "Windows-Registry-Key",
    "directory": "Directory",
    "mutex": "Mutex",
    "network-traffic": "Network-Traffic",
    "user-account": "User-Account",
    "autonomous-system": "Autonomous-System",
    "software": "Software",
    "x509-certificate": "X509-Certificate",
    "cryptocurrency-wallet": "Cryptocurrency-Wallet",
    "user-agent": "User-Agent",
    "text": "Text",
}
"""STIX type → OpenCTI entity type, for the types the emulator stores. OpenCTI's own
observable types travel as `x-opencti-<type>` in older exports."""

_IDENTIFIER = re.compile(
    r"[a-z][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I
)
_STREAM_EVENTS = frozenset({"create", "update", "merge", "delete"})
# Where STIX 2.1 keeps an observable's identifying value, by property, in order of preference
# (a file's `name` is its last resort, after its hashes' owners had their say).
_VALUE_PROPERTIES = ("value", "name", "path", "key", "number", "user_id", "subject")


def entity_type_of(stix_type: Any) -> str | None:
    if not isinstance(stix_type, str):
        return None
    if stix_type.startswith("x-opencti-"):
        stix_type = stix_type.removeprefix("x-opencti-")
        if stix_type not in ("hostname", "cryptocurrency-wallet", "user-agent", "text"):
            return None
    return ENTITY_TYPES.get(stix_type)


# --------------------------------------------------------------------------- scalars


def text(value: Any) -> str:
    """A string as JSON can carry it back out: lone surrogates (invalid Unicode that some
    producers write as `\\ud800`) become `?`; None is empty."""
    if value is None:
        return ""
    out = value if isinstance(value, str) else str(value)
    if any("\ud800" <= ch <= "\udfff" for ch in out):
        return out.encode("utf-8", "replace").decode("utf-8")
    return out


def timestamp(value: Any) -> datetime | None:
    """A STIX timestamp (RFC 3339, UTC; a missing zone is read as UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def integer(value: Any) -> int | None:
    """An integer property, also when a producer wrote it as a float or a digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        digits = value.strip()
        if digits.lstrip("-").isdigit():
            return int(digits)
    return None


def strings(value: Any) -> list[str]:
    """A list of strings (a lone string is a list of one; `{value: ...}` items are OpenCTI's
    labels)."""
    if isinstance(value, str):
        return [text(value)]
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                item = item.get("value")
            if isinstance(item, str):
                out.append(text(item))
    return out


def hashes_of(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(algo): digest for algo, digest in value.items() if isinstance(digest, str)}
    out: dict[str, str] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping) and item.get("algorithm") and item.get("hash"):
                out[str(item["algorithm"])] = str(item["hash"])
    return out


def _nonempty(value: Any) -> str | None:
    return text(value) if isinstance(value, str) and value else None


def _extension(obj: Mapping[str, Any], ext_id: str) -> Mapping[str, Any]:
    ext = obj.get("extensions")
    found = ext.get(ext_id) if isinstance(ext, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _property(obj: Mapping[str, Any], name: str, ext: Mapping[str, Any], ext_name: str) -> Any:
    """A custom property set on the object itself wins over the extension's, even when null."""
    return obj[name] if name in obj else ext.get(ext_name)


# --------------------------------------------------------------------------- whole files


def objects_of(records: Iterable[Any]) -> list[Mapping[str, Any]]:
    """The objects a list of STIX objects or of OpenCTI stream events describes.

    STIX versioning: several versions of one id keep the one with the latest `modified`.
    Stream events apply in order: a later event replaces the object, `delete` removes it.
    Objects without an id are kept as they come, after the others.
    """
    current: dict[str, Mapping[str, Any]] = {}
    anonymous: list[Mapping[str, Any]] = []
    for record in records:
        if not isinstance(record, Mapping):
            continue
        data = record.get("data")
        is_event = record.get("type") in _STREAM_EVENTS and isinstance(data, Mapping)
        obj: Mapping[str, Any] = data if is_event else record  # type: ignore[assignment]
        ident = str(obj.get("id") or "")
        if not ident:
            anonymous.append(obj)
        elif is_event and record.get("type") == "delete":
            current.pop(ident, None)
        elif is_event or ident not in current or _later_version(obj, current[ident]):
            current[ident] = obj
    return [*current.values(), *anonymous]


def _later_version(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    new_at, old_at = timestamp(new.get("modified")), timestamp(old.get("modified"))
    if old_at is None:
        return True
    return new_at is not None and new_at >= old_at


def marking_definitions(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Marking definition id → the name OpenCTI shows (`TLP:GREEN`, `PAP:RED`, `statement`):
    the standard TLP ids, then the bundle's own definitions."""
    names = dict(TLP_MARKINGS)
    for obj in objects:
        ident = obj.get("id")
        if obj.get("type") != "marking-definition" or not isinstance(ident, str):
            continue
        if ident in TLP_MARKINGS:
            continue
        name = _marking_name(obj)
        if name is not None:
            names[ident] = name
    return names


def _marking_name(obj: Mapping[str, Any]) -> str | None:
    name = obj.get("name")
    if not isinstance(name, str):
        definition = obj.get("definition")
        definition = definition if isinstance(definition, Mapping) else {}
        tlp = definition.get("tlp", definition.get("TLP"))
        if isinstance(tlp, str):
            name = tlp if tlp.upper().startswith("TLP:") else "TLP:" + tlp
        elif "statement" in definition:
            name = "statement"
        else:
            return None
    name = name.strip().upper()
    return "TLP:CLEAR" if name == "TLP:WHITE" else name


# --------------------------------------------------------------------------- one object


@dataclass
class Entity:
    """An indicator or an observable as the emulator stores it (before labels and markings
    become records)."""

    stix_id: str
    entity_type: str
    internal_id: str | None = None
    name: str = ""
    description: str = ""
    labels: list[str] = field(default_factory=list)
    markings: list[str] = field(default_factory=list)
    confidence: int | None = None
    score: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    created_at: datetime | None = None
    """The platform's own creation / update time (OpenCTI's extension), when exported."""
    updated_at: datetime | None = None
    # indicators
    pattern: str | None = None
    pattern_type: str = "stix"
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    revoked: bool = False
    detection: bool | None = None
    platforms: list[str] = field(default_factory=list)
    main_observable_type: str | None = None
    indicator_types: list[str] | None = None
    # observables
    value: str | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    number: int | None = None

    @property
    def is_indicator(self) -> bool:
        return self.entity_type == "Indicator"


class NotImportable(ValueError):
    """An indicator or observable OpenCTI would refuse (its id is not a STIX identifier)."""


def read_entity(obj: Mapping[str, Any], markings: Mapping[str, str]) -> Entity | None:
    """One STIX object → an `Entity`; None for anything but indicators and known observables."""
    entity_type = entity_type_of(obj.get("type"))
    if entity_type is None:
        return None
    ident = obj.get("id")
    if not isinstance(ident, str) or not _IDENTIFIER.fullmatch(ident):
        raise NotImportable(f"{obj.get('type')} with an invalid id {str(ident)[:80]!r}")
    sdo = _extension(obj, SDO_EXTENSION)
    sco = _extension(obj, SCO_EXTENSION)
    refs = strings(obj.get("object_marking_refs"))
    entity = Entity(
        stix_id=ident,
        entity_type=entity_type,
        internal_id=_nonempty(obj.get("x_opencti_id")) or _nonempty(sdo.get("id")),
        name=text(obj.get("name")),
        labels=(
            strings(obj.get("labels"))
            or strings(obj.get("x_opencti_labels"))
            or strings(sdo.get("labels"))
            or strings(sco.get("labels"))
        ),
        markings=sorted({markings.get(ref, UNRESOLVED_MARKING + ref) for ref in refs}),
        confidence=integer(obj.get("confidence")),
        created=timestamp(obj.get("created") or sdo.get("created_at")),
        modified=timestamp(obj.get("modified") or sdo.get("updated_at")),
        created_at=timestamp(sdo.get("created_at")),
        updated_at=timestamp(sdo.get("updated_at")),
    )
    if entity.is_indicator:
        _read_indicator(entity, obj, sdo)
    else:
        _read_observable(entity, obj, sco)
    return entity


def _read_indicator(entity: Entity, obj: Mapping[str, Any], sdo: Mapping[str, Any]) -> None:
    pattern = obj.get("pattern")
    detection = _property(obj, "x_opencti_detection", sdo, "detection")
    types = obj.get("indicator_types")
    entity.description = text(obj.get("description"))
    entity.pattern = pattern if isinstance(pattern, str) else None
    entity.pattern_type = text(obj.get("pattern_type") or "stix").lower()
    entity.valid_from = timestamp(obj.get("valid_from"))
    entity.valid_until = timestamp(obj.get("valid_until"))
    entity.revoked = obj.get("revoked") is True
    entity.detection = detection if isinstance(detection, bool) else None
    entity.platforms = strings(obj.get("x_mitre_platforms"))
    entity.main_observable_type = _nonempty(obj.get("x_opencti_main_observable_type")) or (
        _nonempty(sdo.get("main_observable_type"))
    )
    entity.score = integer(_property(obj, "x_opencti_score", sdo, "score"))
    entity.indicator_types = types if isinstance(types, list) else None


def _read_observable(entity: Entity, obj: Mapping[str, Any], sco: Mapping[str, Any]) -> None:
    entity.description = text(obj.get("x_opencti_description") or sco.get("description"))
    entity.score = integer(_property(obj, "x_opencti_score", sco, "score"))
    entity.hashes = hashes_of(obj.get("hashes"))
    entity.value = _observable_value(entity.entity_type, obj)
    entity.number = integer(obj.get("number"))


def _observable_value(entity_type: str, obj: Mapping[str, Any]) -> str | None:
    is_file = entity_type == "StixFile"
    for prop in _VALUE_PROPERTIES:
        value = obj.get(prop)
        if prop == "name" and is_file:
            continue
        if isinstance(value, str | int) and not isinstance(value, bool):
            return text(str(value))
    name = obj.get("name")
    return text(name) if is_file and isinstance(name, str) else None
