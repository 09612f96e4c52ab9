"""Tanium alerts → OpenCTI sightings: what to write. Pure (no I/O, no clock).

An alert is mapped to the document it fired on (`intelDocId`), the document to its desired key
through its ownership marker, and the key to its origin objects (the OpenCTI indicators and
observables the document was made from, recomputed from the source every pass). One sighting
per (origin object, Tanium host, UTC day): `first_seen`/`last_seen` are the real bounds of that
group's alerts and `attribute_count` their number; its `stix_id` is derived from the three, so
replaying the same alerts sends the same sighting.

OpenCTI merges a sighting into an existing one of the same (from, to) whose dates lie within
±30 days, and adds `attribute_count` only when a date widens. Writes are therefore ordered by
time per (object, host): every batch of new alerts lies after the previous one and widens
`last_seen`, so the count grows by exactly the new alerts; a replayed batch widens nothing and
adds nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from controller.core.model import Key, TaniumId

NAMESPACE = uuid.UUID("6f1b4c9e-2b8a-5d1e-9c3f-7a0e4d2b1c55")
"""The namespace of the ids octi-tanium derives for its sightings."""


class AlertLike(Protocol):
    """What the aggregation reads of an alert (`controller.tanium.alerts.Alert` fits)."""

    @property
    def intel_id(self) -> TaniumId | None: ...
    @property
    def alerted_at(self) -> datetime: ...
    @property
    def computer_name(self) -> str: ...
    @property
    def computer_ip(self) -> str: ...
    @property
    def suppressed(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class SightingWrite:
    """One sighting to upsert: `count` alerts of `host` matching `object_id` on `day`."""

    object_id: str
    host: str
    day: date
    first_seen: datetime
    last_seen: datetime
    count: int
    stix_id: str

    def to_json(self) -> dict[str, object]:
        return {
            "object_id": self.object_id,
            "host": self.host,
            "day": self.day.isoformat(),
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "count": self.count,
            "stix_id": self.stix_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SightingWrite:
        return cls(
            object_id=str(data["object_id"]),
            host=str(data["host"]),
            day=date.fromisoformat(str(data["day"])),
            first_seen=datetime.fromisoformat(str(data["first_seen"])),
            last_seen=datetime.fromisoformat(str(data["last_seen"])),
            count=int(str(data["count"])),
            stix_id=str(data["stix_id"]),
        )


@dataclass
class Aggregation:
    writes: list[SightingWrite] = field(default_factory=list)
    alerts: int = 0
    """Alerts read in the window (all states)."""
    counted: int = 0
    """Alerts counted into a sighting (each once, whatever its number of origin objects)."""
    suppressed: int = 0
    foreign: int = 0
    """Alerts on documents octi-tanium does not own (left alone)."""
    unmapped: int = 0
    """Alerts on owned documents whose key is no longer desired (origins unknown)."""
    already: int = 0
    """Alerts at or before the last sighting OpenCTI already holds (after a lost cursor)."""
    hosts: set[str] = field(default_factory=set)


def sighting_stix_id(object_id: str, host: str, day: date) -> str:
    """`sighting--<uuid5>` of (origin object, host, UTC day): the same group, the same id."""
    name = f"octi-tanium/sighting/{object_id}/{host.casefold()}/{day.isoformat()}"
    return f"sighting--{uuid.uuid5(NAMESPACE, name)}"


def host_of(alert: AlertLike) -> str:
    """The Tanium endpoint an alert fired on: its computer name, else its IP address."""
    return alert.computer_name or alert.computer_ip or "unknown endpoint"


def aggregate(
    alerts: Iterable[AlertLike],
    owners: Mapping[TaniumId, Key],
    origins: Mapping[Key, tuple[str, ...]],
    counted_until: Mapping[tuple[str, str], datetime] | None = None,
) -> Aggregation:
    """The sightings `alerts` add. `owners`: owned document id → key; `origins`: key → the
    OpenCTI ids it came from; `counted_until`: (object, host) → the `last_seen` OpenCTI already
    holds (used after a lost cursor: alerts at or before it are counted already)."""
    out = Aggregation()
    groups: dict[tuple[str, str, date], list[datetime]] = {}
    for alert in alerts:
        out.alerts += 1
        if alert.suppressed:
            out.suppressed += 1
            continue
        key = owners.get(alert.intel_id) if alert.intel_id is not None else None
        if key is None:
            out.foreign += 1
            continue
        objects = origins.get(key, ())
        if not objects:
            out.unmapped += 1
            continue
        host = host_of(alert)
        moment = alert.alerted_at
        fresh = [
            o
            for o in objects
            if counted_until is None
            or (o, host) not in counted_until
            or moment > counted_until[(o, host)]
        ]
        if not fresh:
            out.already += 1
            continue
        out.counted += 1
        out.hosts.add(host)
        for object_id in fresh:
            groups.setdefault((object_id, host, moment.date()), []).append(moment)
    for (object_id, host, day), moments in sorted(groups.items()):
        out.writes.append(
            SightingWrite(
                object_id=object_id,
                host=host,
                day=day,
                first_seen=min(moments),
                last_seen=max(moments),
                count=len(moments),
                stix_id=sighting_stix_id(object_id, host, day),
            )
        )
    return out
