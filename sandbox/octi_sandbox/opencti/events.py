"""The emulator's live stream log: every change of an indicator or observable is an event (§9).

Events carry Redis-stream-like ids (`<ms>-<seq>`, increasing), a topic (`create`, `update`,
`delete`, `merge`) and OpenCTI's event body `{version: "4", type, scope, data: <STIX 2.1 with the
OpenCTI extension>, message, origin, context}`. The log keeps the last `retention` events
(OpenCTI trims its Redis stream the same way); an id older than the oldest kept one is gone.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from octi_sandbox.opencti.records import Record
from octi_sandbox.opencti.stix import ENTITY_TYPES
from octi_sandbox.opencti.stix import SDO_EXTENSION as OPENCTI_EXTENSION

_STIX_TYPES = {entity: stix for stix, entity in ENTITY_TYPES.items()}


@dataclass(frozen=True)
class Event:
    id: str
    topic: str
    data: dict[str, Any]

    @property
    def ms(self) -> int:
        return int(self.id.split("-", 1)[0])


def parse_id(text: str) -> tuple[int, int] | None:
    """`1620249512318-0` → (ms, seq); a bare number is a time in ms (seq 0)."""
    head, _, tail = text.strip().partition("-")
    try:
        return int(head), int(tail or 0)
    except ValueError:
        return None


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return value


def stix_of(record: Record) -> dict[str, Any]:
    """The record as OpenCTI streams it: STIX 2.1 plus its extension (id, type, updated_at)."""
    entity_type = record["entity_type"]
    out: dict[str, Any] = {
        "id": record["standard_id"],
        "spec_version": "2.1",
        "type": _STIX_TYPES.get(entity_type, entity_type.lower()),
        "labels": [label["value"] for label in record.get("objectLabel") or ()],
    }
    for key in ("name", "description", "pattern", "pattern_type", "valid_from", "valid_until"):
        if record.get(key) is not None:
            out[key] = _iso(record[key])
    if record.get("value") is not None:
        out["value"] = record["value"]
    if record.get("_hashes"):
        out["hashes"] = dict(record["_hashes"])
    if entity_type == "Indicator":
        out["revoked"] = bool(record.get("revoked"))
        out["created"] = _iso(record.get("created"))
        out["modified"] = _iso(record.get("modified"))
    out["extensions"] = {
        OPENCTI_EXTENSION: {
            "extension_type": "property-extension",
            "id": record["id"],
            "type": entity_type,
            "created_at": _iso(record.get("created_at")),
            "updated_at": _iso(record.get("updated_at")),
            "score": record.get("x_opencti_score"),
            "detection": record.get("x_opencti_detection"),
        }
    }
    return out


def _context(topic: str, data: dict[str, Any], sources: list[Record] | None) -> dict[str, Any]:
    if topic == "delete":
        return {"deletions": [data]}
    if topic == "merge":
        return {"sources": [stix_of(source) for source in sources or ()]}
    return {}


class EventLog:
    def __init__(self, retention: int = 100_000) -> None:
        self.retention = retention
        self.events: deque[Event] = deque()
        self._last = (0, -1)

    def _next_id(self) -> str:
        ms = int(time.time() * 1000)
        last_ms, last_seq = self._last
        self._last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self._last[0]}-{self._last[1]}"

    def emit_merge(self, target: Record, sources: list[Record]) -> Event:
        """OpenCTI's `merge` event: the target, and the merged sources in `context.sources`."""
        return self.emit("merge", target, sources=sources)

    def emit(
        self,
        topic: str,
        record: Record,
        *,
        origin: str = "api",
        sources: list[Record] | None = None,
    ) -> Event:
        data = stix_of(record)
        name = data.get("name") or data.get("value") or data["id"]
        body: dict[str, Any] = {
            "version": "4",
            "type": topic,
            "scope": "external",
            "data": data,
            "message": f"{topic}s a {record['entity_type']} `{name}`",
            "origin": {"referer": origin},
            "context": _context(topic, data, sources),
        }
        event = Event(self._next_id(), topic, body)
        self.events.append(event)
        while len(self.events) > self.retention:
            self.events.popleft()
        return event

    def after(self, position: tuple[int, int]) -> list[Event]:
        """Events strictly after `position` (what Redis XRANGE gives: trimmed ones are gone)."""
        out = []
        for event in reversed(self.events):
            ms, _, seq = event.id.partition("-")
            if (int(ms), int(seq)) <= position:
                break
            out.append(event)
        out.reverse()
        return out

    @property
    def head(self) -> tuple[int, int]:
        """The id of the last event ever emitted (kept when trimmed or cleared)."""
        return self._last

    def clear(self) -> None:
        self.events.clear()
