"""ISO 8601 timestamps as vendors send them (`2026-11-28T04:04:18.129Z`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware datetime (a timestamp without a zone is UTC, as STIX says), or None
    for anything that is not an ISO 8601 string."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    """UTC with milliseconds and `Z` (`2026-11-28T04:04:18.129Z`): how OpenCTI renders a date
    and how Tanium's alert filters take one."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
