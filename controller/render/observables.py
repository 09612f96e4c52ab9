"""Observables → intel (network values as OpenIOC) or blocklist files (hashes)."""

from __future__ import annotations

from controller.core.diagnostics import Diagnostic
from controller.core.model import SourceObject
from controller.render import openioc
from controller.render.canonical import (
    canonical_value,
    file_key,
    hash_algorithm,
    hash_problem,
    stix_type,
    strongest,
    value_key,
)
from controller.render.stix import VALUE_TERMS
from controller.render.types import Conversion, FileCandidate, IntelCandidate

FILE_TYPES = ("stixfile", "artifact", "file")
UNSUPPORTED = {
    "email-addr": "Tanium scans endpoints, not mail flow",
    "email-message": "Tanium scans endpoints, not mail flow",
    "email-mime-part-type": "Tanium scans endpoints, not mail flow",
    "mac-addr": "endpoint intel has no term for MAC addresses",
    "autonomous-system": "an AS number is not visible on endpoints",
    "network-traffic": "a bare connection record has no detection logic; use a STIX indicator",
    "process": "a bare process record has no detection logic; use a Tanium Signal",
    "windows-registry-key": "a bare registry key has no detection logic; use a Tanium Signal",
    "directory": "a bare directory has no detection logic; use a Tanium Signal",
    "mutex": "Tanium intel has no mutex term",
    "user-account": "accounts are not endpoint intel",
    "software": "inventory, not threat intel; use Tanium Asset/Comply",
    "x509-certificate": "Tanium intel has no certificate term",
    "user-agent": "Tanium intel has no HTTP user-agent term",
}


def _skip(obj: SourceObject, reason: str, error: bool = False) -> Conversion:
    diagnostics = (Diagnostic.error(reason, key=obj.standard_id),) if error else ()
    return Conversion(skip_reason=reason, diagnostics=diagnostics)


def convert_observable(obj: SourceObject) -> Conversion:
    entity = obj.entity_type.strip().lower()
    if entity in FILE_TYPES:
        return _file(obj)
    kind = stix_type(entity)
    if kind is None:
        why = UNSUPPORTED.get(entity, "Tanium intel has no equivalent")
        return _skip(obj, f"observable type {obj.entity_type} not supported by Tanium: {why}")
    value = obj.value or ""
    canonical = canonical_value(kind, value)
    if canonical is None:
        return _skip(obj, f"{obj.entity_type} value {value!r} is not valid", error=True)
    if kind.startswith("ipv") and "/" in canonical:
        return _skip(
            obj,
            f"{obj.entity_type} {canonical} is a CIDR range; Tanium intel matches addresses only",
        )
    search, content_type = VALUE_TERMS[kind]
    candidate = IntelCandidate(
        key=value_key(kind, canonical),
        intel_type="openioc",
        name=canonical,
        description=obj.description,
        payload=openioc.payload_of(openioc.term(search, content_type, canonical)),
    )
    return Conversion(intel=(candidate,))


def _file(obj: SourceObject) -> Conversion:
    hashes: dict[str, str] = {}
    for name, value in obj.hashes.items():
        algorithm = hash_algorithm(name)
        if algorithm is None:
            continue
        problem = hash_problem(algorithm, value)
        if problem is not None:
            return _skip(obj, f"{obj.entity_type} hash mismatch: {problem}", error=True)
        hashes[algorithm] = value.strip().strip("'\"").lower()
    if not hashes:
        return _skip(obj, f"{obj.entity_type} has no MD5, SHA-1 or SHA-256 hash")
    hashes = dict(sorted(hashes.items()))
    name = obj.value or obj.name or strongest(hashes)[1]
    return Conversion(files=(FileCandidate(key=file_key(hashes), hashes=hashes, name=name),))
