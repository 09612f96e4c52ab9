"""The values passed between the HTTP layer and the format parsers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


class IntelFormatError(ValueError):
    """The document cannot be accepted; the message is the reason Tanium would give."""


@dataclass(frozen=True)
class Upload:
    body: bytes
    media_type: str | None
    """Content-Type without parameters, lower-cased."""
    type_header: str | None = None
    filename: str | None = None
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class ParsedIntel:
    type: str
    name: str
    description: str
    intrinsic_id: str | None
    contents: str
    md5: str
    size: int
    is_schema_valid: bool = True
    platforms: list[str] | None = None
    mitre_attack: dict[str, Any] | None = None
    compiled: dict[str, Any] | None = None


def digest(contents: str | bytes) -> tuple[str, int]:
    """Tanium's `md5` and `size`: of the stored body bytes (text is encoded as UTF-8)."""
    data = contents.encode("utf-8") if isinstance(contents, str) else contents
    return hashlib.md5(data).hexdigest(), len(data)
