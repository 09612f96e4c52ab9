"""ISO 8601 timestamps as vendors send them (`2026-11-28T04:04:18.129Z`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """A datetime, or None for anything that is not an ISO 8601 string."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
