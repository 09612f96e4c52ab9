"""The ownership marker: a self-referencing trailer carried by every object we create.

Intel documents carry it at the end of their description (which Tanium reports in every
listing), plus an intrinsic id derived from the key (OpenIOC root id, STIX package id,
signal `id`, YARA file name). Blocklist entries carry it in `notes`. An object is owned only
when its marker is present and consistent; everything else is never touched.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from controller.model import ActualBlocklist, ActualIntel, Key

MARKER_RE = re.compile(r"\[octi-tanium:v1 key=(?P<key>[^\s\]]+) digest=(?P<digest>[0-9a-f]{16})\]$")


@dataclass(frozen=True)
class Marker:
    key: Key
    digest: str

    def text(self) -> str:
        return f"[octi-tanium:v1 key={self.key} digest={self.digest}]"


def digest_of(fields: dict[str, Any]) -> str:
    """A short, stable digest of the desired content (canonical JSON, sorted keys)."""
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def with_marker(text: str, marker: Marker) -> str:
    return f"{text} {marker.text()}" if text else marker.text()


_MARKER_START = "[octi-tanium:v1 key="


def parse_marker(text: str | None) -> Marker | None:
    """The marker at the end of `text` (a description or notes), or None."""
    if not text:
        return None
    start = text.rfind(_MARKER_START)
    if start < 0:
        return None
    match = MARKER_RE.fullmatch(text, start, len(text.rstrip()))
    if not match:
        return None
    return Marker(Key(match.group("key")), match.group("digest"))


def intrinsic_ids_for(key: str) -> frozenset[str]:
    """The intrinsic ids Tanium may report for a document we rendered for `key`."""
    safe = key.replace(":", "_").replace("/", "_")
    return frozenset({key, safe, f"{safe}.yara", f"{safe}.ioc", f"{safe}.stix", f"{key}.yara"})


def owned_intel_key(doc: ActualIntel) -> Key | None:
    """The key of a document we own, or None when its marker is absent or inconsistent."""
    marker = parse_marker(doc.description)
    if marker is None:
        return None
    intrinsic = doc.intrinsic_id
    if (
        intrinsic is not None
        and intrinsic != marker.key
        and (intrinsic not in intrinsic_ids_for(marker.key))
    ):
        return None
    return marker.key


def owned_blocklist_key(entry: ActualBlocklist) -> Key | None:
    marker = parse_marker(entry.notes)
    return marker.key if marker else None
