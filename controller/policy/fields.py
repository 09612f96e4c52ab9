"""Value types of the policy language: durations, hashes, ids, exclusion values, timestamps.

Each is a `str` (or `datetime`) at run time, validated with a message a policy author can act
on, and carries the JSON Schema an editor needs (a pattern where one can say it).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

DURATION_PATTERN = r"^\s*[0-9]+[smhdw]\s*$"
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `30m` → timedelta. Raises ValueError with the accepted forms."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(
            f"invalid duration {text!r} (expected a number and a unit s, m, h, d or w: "
            "30m, 12h, 90d, 2w)"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _duration(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[
    str,
    AfterValidator(_duration),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A number and a unit: s, m, h, d or w (30m, 12h, 90d, 2w).",
        }
    ),
]

HASH_PATTERN = r"^([0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$"
HASH_LENGTHS = {32: "MD5", 40: "SHA-1", 64: "SHA-256"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def hash_problem(value: str) -> str | None:
    """Why `value` is not a hex MD5 / SHA-1 / SHA-256, or None when it is one."""
    if not _HEX.fullmatch(value):  # `match` with `$` would let a trailing newline through
        bad = next((c for c in value if c not in "0123456789abcdefABCDEF"), "")
        what = f"contains {bad!r}, which is not a hex digit" if value else "is empty"
        return f"{value!r} is not a hash: it {what}"
    if len(value) not in HASH_LENGTHS:
        return (
            f"{value!r} is not a hash: {len(value)} hex digits "
            "(an MD5 has 32, a SHA-1 40, a SHA-256 64)"
        )
    return None


def _hash(value: str) -> str:
    problem = hash_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Hash = Annotated[
    str,
    AfterValidator(_hash),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": HASH_PATTERN,
            "description": "A hex MD5 (32), SHA-1 (40) or SHA-256 (64 characters).",
        }
    ),
]

OPENCTI_ID_PATTERN = (
    r"^([a-z][a-z0-9-]*--)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    r"-[0-9a-fA-F]{12}$"
)
_OPENCTI_ID = re.compile(OPENCTI_ID_PATTERN)


def _opencti_id(value: str) -> str:
    if not _OPENCTI_ID.match(value):
        raise ValueError(
            f"{value!r} is not an OpenCTI id (expected a STIX id such as "
            "'indicator--<uuid>' or an internal id '<uuid>')"
        )
    return value


OpenCtiId = Annotated[
    str,
    AfterValidator(_opencti_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": OPENCTI_ID_PATTERN,
            "description": "A STIX standard id (indicator--<uuid>) or an OpenCTI internal id.",
        }
    ),
]

_IPV4ISH = re.compile(r"^[0-9.]+(/[0-9]*)?$")
_IPV6ISH = re.compile(r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(/[0-9]*)?$")


def _exclusion_value(value: str) -> str:
    """Values that look like an IP address or a CIDR range must be one."""
    text = value.strip()
    if not text:
        raise ValueError("an empty value excludes nothing")
    if not (_IPV4ISH.match(text) or _IPV6ISH.match(text)):
        return value
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        hint = ""
        with contextlib.suppress(ValueError):
            hint = f"; did you mean '{ipaddress.ip_network(text, strict=False)}'?"
        what = "CIDR range" if "/" in text else "IP address"
        raise ValueError(f"{value!r} is not a valid {what}: {exc}{hint}") from None
    return value


ExclusionValue = Annotated[
    str,
    AfterValidator(_exclusion_value),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "description": "An IP, a CIDR range, a domain, a URL or any observable value.",
        }
    ),
]

Timestamp = Annotated[
    datetime,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ],
            "description": "ISO 8601: 2024-06-01 or 2024-06-01T12:00:00Z (UTC when no zone).",
        }
    ),
]
