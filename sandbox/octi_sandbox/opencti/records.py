"""The emulator's entities: plain dicts keyed by GraphQL field names.

graphql-core's default resolver reads a dict with `.get(field)`, so a page of 5,000 nodes
resolves without one Python call per field. Keys starting with `_` are the emulator's own
(e.g. `_hashes` for filtering). Dates are `datetime` objects; the emulator's `DateTime`
scalar serialises them as OpenCTI does (`2024-01-31T12:00:00.000Z`).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

Record = dict[str, Any]

OASIS_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
"""The namespace OpenCTI derives its standard ids in (uuidv5 over canonical JSON)."""
EMULATOR_NAMESPACE = uuid.UUID("6c1f3d0e-8f0a-4b8e-9a3c-5e8d7c2b1a00")
"""Internal ids of seeded objects: uuidv5 of the standard id, so reseeding is deterministic."""

FROM_START = datetime(1970, 1, 1, tzinfo=UTC)
"""OpenCTI's "no date" sentinel (its `nil` filter matches it)."""
UNTIL_END = datetime(5138, 11, 16, 9, 46, 40, tzinfo=UTC)

INDICATOR_PARENTS = ["Basic-Object", "Stix-Object", "Stix-Core-Object", "Stix-Domain-Object"]
OBSERVABLE_PARENTS = ["Basic-Object", "Stix-Object", "Stix-Core-Object", "Stix-Cyber-Observable"]

# Built-in lifetimes of the decay rules (days), by main observable type (§6).
LIFETIME_DAYS = {"IPv4-Addr": 47, "IPv6-Addr": 47, "Url": 47, "Domain-Name": 300,
                 "Hostname": 300, "StixFile": 460}  # fmt: skip
DEFAULT_LIFETIME_DAYS = 470
REVOKE_SCORE = 20

# STIX pattern object type → OpenCTI main observable type.
_PATTERN_TYPES = {
    "ipv4-addr": "IPv4-Addr", "ipv6-addr": "IPv6-Addr", "domain-name": "Domain-Name",
    "hostname": "Hostname", "url": "Url", "file": "StixFile", "email-addr": "Email-Addr",
    "mac-addr": "Mac-Addr", "windows-registry-key": "Windows-Registry-Key",
    "process": "Process", "directory": "Directory", "mutex": "Mutex",
    "user-account": "User-Account", "autonomous-system": "Autonomous-System",
    "network-traffic": "Network-Traffic", "x509-certificate": "X509-Certificate",
}  # fmt: skip
_FIRST_OBJECT = re.compile(r"\[\s*([a-z0-9-]+):")

# Where an observable's value lives, per GraphQL type (the rest have no single value).
VALUE_FIELD = {
    "IPv4Addr": "value", "IPv6Addr": "value", "DomainName": "value", "Hostname": "value",
    "Url": "value", "EmailAddr": "value", "MacAddr": "value", "CryptocurrencyWallet": "value",
    "UserAgent": "value", "Text": "value", "Directory": "path", "Software": "name",
    "Mutex": "name", "UserAccount": "user_id", "EmailMessage": "subject",
    "X509Certificate": "subject", "WindowsRegistryKey": "attribute_key",
}  # fmt: skip
NAMED_TYPES = frozenset({"StixFile", "Software", "Mutex", "AutonomousSystem"})
HASHED_TYPES = frozenset({"StixFile", "Artifact", "X509Certificate"})
HASH_PRIORITY = ("MD5", "SHA-1", "SHA-256", "SHA-512")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def standard_id(prefix: str, contributing: dict[str, Any]) -> str:
    return f"{prefix}--{uuid.uuid5(OASIS_NAMESPACE, canonical_json(contributing))}"


def internal_id_for(standard: str) -> str:
    return str(uuid.uuid5(EMULATOR_NAMESPACE, standard))


def typename(entity_type: str) -> str:
    """`IPv4-Addr` → `IPv4Addr`: OpenCTI's GraphQL type names drop the dashes."""
    return entity_type.replace("-", "")


def normalize_algorithm(name: str) -> str:
    """`sha256`, `SHA256`, `SHA-256` → `SHA256` (for filter matching only)."""
    return name.upper().replace("-", "").replace("_", "")


def main_observable_type(pattern: str | None, pattern_type: str | None) -> str:
    if (pattern_type or "stix").lower() != "stix" or not pattern:
        return "Unknown"
    match = _FIRST_OBJECT.search(pattern)
    return _PATTERN_TYPES.get(match.group(1), "Unknown") if match else "Unknown"


def lifetime(main_type: str | None) -> timedelta:
    return timedelta(days=LIFETIME_DAYS.get(main_type or "", DEFAULT_LIFETIME_DAYS))


def base(typename_: str, entity_type: str, parents: list[str], standard: str,
         internal: str | None, created_at: datetime, updated_at: datetime) -> Record:  # fmt: skip
    return {
        "__typename": typename_,
        "id": internal or internal_id_for(standard),
        "standard_id": standard,
        "entity_type": entity_type,
        "parent_types": parents,
        "x_opencti_stix_ids": [],
        "is_inferred": False,
        "spec_version": "2.1",
        "created_at": created_at,
        "updated_at": updated_at,
        "refreshed_at": updated_at,
        "objectLabel": [],
        "objectMarking": [],
        "createdBy": None,
        "creators": [],
    }


def label_record(value: str, now: datetime) -> Record:
    standard = standard_id("label", {"value": value.strip().lower()})
    rec = base("Label", "Label", ["Basic-Object", "Stix-Object", "Stix-Meta-Object"],
               standard, None, now, now)  # fmt: skip
    rec.update({"value": value, "color": "#" + standard[-6:], "created": now, "modified": now})
    return rec


def marking_record(name: str, ref: str | None, order: int, now: datetime) -> Record:
    kind = name.split(":", 1)[0] if ":" in name and not name.startswith("marking-") else "statement"
    if name.startswith("marking-definition--"):
        kind = "unknown"
    standard = ref or standard_id("marking-definition", {"definition": name,
                                                          "definition_type": kind})  # fmt: skip
    rec = base(
        "MarkingDefinition",
        "Marking-Definition",
        ["Basic-Object", "Stix-Object", "Stix-Meta-Object"],
        standard,
        None,
        now,
        now,
    )
    rec.update({"definition_type": kind, "definition": name, "x_opencti_order": order,
                "x_opencti_color": "#ffffff", "created": now, "modified": now})  # fmt: skip
    return rec


def identity_record(name: str, identity_class: str, now: datetime,
                    standard: str | None = None) -> Record:  # fmt: skip
    entity = {"system": "System", "organization": "Organization", "individual": "Individual",
              "class": "Sector"}.get(identity_class, "Organization")  # fmt: skip
    standard = standard or standard_id(
        "identity", {"identity_class": identity_class, "name": name.strip().lower()}
    )
    rec = base(entity, entity, ["Basic-Object", "Stix-Object", "Stix-Core-Object",
               "Stix-Domain-Object", "Identity"], standard, None, now, now)  # fmt: skip
    rec.update({"name": name, "identity_class": identity_class, "description": None,
                "created": now, "modified": now, "revoked": False, "confidence": 100})  # fmt: skip
    return rec


def observable_standard_id(entity_type: str, value: str | None, hashes: dict[str, str],
                           name: str | None) -> str:  # fmt: skip
    prefix = {"StixFile": "file", "Hostname": "hostname"}.get(entity_type, entity_type.lower())
    if entity_type in ("StixFile", "Artifact"):
        for algorithm in HASH_PRIORITY:
            for key, digest in hashes.items():
                if normalize_algorithm(key) == normalize_algorithm(algorithm):
                    return standard_id(prefix, {"hashes": {algorithm: digest.lower()}})
        return standard_id(prefix, {"name": name or ""})
    return standard_id(prefix, {"value": (value or "").strip().lower()})


def hash_list(hashes: dict[str, str]) -> list[Record]:
    return [{"algorithm": key, "hash": value} for key, value in hashes.items()]
