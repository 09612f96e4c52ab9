"""The emulator's knowledge base: entities, labels, markings, identities, sightings, the clock.

Every change bumps `version`, which invalidates the listing cache. Any id argument resolves
against the internal id, the standard id and `x_opencti_stix_ids` (§12).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from octi_sandbox.opencti.records import (
    REVOKE_SCORE,
    Record,
    identity_record,
    label_record,
    marking_record,
)
from octi_sandbox.opencti.stix import TLP_MARKINGS

TLP_ORDER = {"TLP:CLEAR": 1, "TLP:GREEN": 2, "TLP:AMBER": 3, "TLP:AMBER+STRICT": 4, "TLP:RED": 5}


class Clock:
    """Real time, or a fixed start, plus whatever the tests advanced it by."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start
        self._offset = timedelta(0)

    def now(self) -> datetime:
        base = self._start if self._start is not None else datetime.now(UTC)
        return base + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def set(self, at: datetime) -> None:
        self._start = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        self._offset = timedelta(0)


class Store:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.version = 0
        self.entities: dict[str, Record] = {}
        """Indicators and observables, by internal id."""
        self.labels: dict[str, Record] = {}
        """By exact value."""
        self.markings: dict[str, Record] = {}
        """By definition (name)."""
        self.identities: dict[str, Record] = {}
        self.sightings: dict[str, Record] = {}
        self.based_on: dict[str, set[str]] = {}
        """Indicator internal id → observable internal ids."""
        self._ids: dict[str, Record] = {}
        self.on_event: Callable[[str, Record], object] = lambda topic, record: None
        """Called with (`create`|`update`|`delete`, record) on every entity change: the live
        stream (`events.py`)."""
        self.on_merge: Callable[[Record, list[Record]], object] = lambda target, sources: None
        """Called with (target, merged sources) after a merge: one `merge` event."""
        now = clock.now()
        for ref, name in TLP_MARKINGS.items():
            if name not in self.markings:
                self._add_marking(marking_record(name, ref, TLP_ORDER.get(name, 0), now))
            else:
                self.alias(self.markings[name], ref)

    # ------------------------------------------------------------------ lookups

    def changed(self) -> None:
        self.version += 1

    def resolve(self, any_id: str | None) -> Record | None:
        return self._ids.get(any_id.lower()) if isinstance(any_id, str) else None

    def alias(self, record: Record, stix_id: str) -> None:
        if (
            stix_id
            and stix_id != record["standard_id"]
            and stix_id not in record["x_opencti_stix_ids"]
        ):
            record["x_opencti_stix_ids"].append(stix_id)
        self._ids[stix_id.lower()] = record

    def _index(self, record: Record) -> None:
        for key in (record["id"], record["standard_id"], *record["x_opencti_stix_ids"]):
            self._ids[key.lower()] = record

    def _unindex(self, record: Record) -> None:
        for key in (record["id"], record["standard_id"], *record["x_opencti_stix_ids"]):
            if self._ids.get(key.lower()) is record:
                del self._ids[key.lower()]

    def of_family(self, family: str) -> Iterator[Record]:
        want_indicator = family == "indicators"
        for record in self.entities.values():
            if (record["entity_type"] == "Indicator") == want_indicator:
                yield record

    # ------------------------------------------------------------------ meta objects

    def label(self, value: str) -> Record:
        found = self.labels.get(value)
        if found is None:
            found = self.labels[value] = label_record(value, self.clock.now())
            self._index(found)
        return found

    def _add_marking(self, record: Record) -> Record:
        self.markings[record["definition"]] = record
        self._index(record)
        return record

    def marking(self, name: str, ref: str | None = None) -> Record:
        """The marking definition named `name` (created on first use); `ref` becomes an alias."""
        found = self.markings.get(name)
        if found is None:
            found = self._add_marking(
                marking_record(name, ref, TLP_ORDER.get(name, 0), self.clock.now())
            )
        elif ref:
            self.alias(found, ref)
        return found

    def identity(self, name: str, identity_class: str, standard: str | None = None) -> Record:
        """Upsert by standard id (name lower-cased + class), as OpenCTI does."""
        record = identity_record(name, identity_class, self.clock.now(), standard)
        existing = self.resolve(record["standard_id"])
        if existing is not None:
            return existing
        self.identities[record["id"]] = record
        self._index(record)
        self.changed()
        return record

    # ------------------------------------------------------------------ entities

    def put(self, record: Record) -> Record:
        """Insert, or replace the entity with the same standard id (keeping its internal id)."""
        existing = self.resolve(record["standard_id"])
        replaced = existing is not None and existing["id"] in self.entities
        if existing is not None and replaced:
            self._unindex(existing)
            record["id"] = existing["id"]
        self.entities[record["id"]] = record
        self._index(record)
        self.changed()
        self.on_event("update" if replaced else "create", record)
        return record

    def delete(self, any_id: str) -> Record | None:
        record = self.resolve(any_id)
        if record is None or record["id"] not in self.entities:
            return None
        self._remove(record)
        self.changed()
        self.on_event("delete", record)
        return record

    def _remove(self, record: Record) -> None:
        del self.entities[record["id"]]
        self._unindex(record)
        self.based_on.pop(record["id"], None)
        for targets in self.based_on.values():
            targets.discard(record["id"])

    def merge(self, target_id: str, source_ids: list[str]) -> Record:
        """OpenCTI's merge: the sources' labels, markings and ids move to the target (its own
        attributes stay), the sources are gone, the target's `updated_at` moves, and the stream
        carries one `merge` event (`context.sources`), no `delete`."""
        target = self.resolve(target_id)
        if target is None or target["id"] not in self.entities:
            raise KeyError(target_id)
        sources: list[Record] = []
        for any_id in source_ids:
            source = self.resolve(any_id)
            if source is None or source["id"] not in self.entities:
                raise KeyError(any_id)
            if source["id"] != target["id"] and source not in sources:
                sources.append(source)
        for source in sources:
            for key, field in (("objectLabel", "value"), ("objectMarking", "definition")):
                have = {ref[field] for ref in target.get(key) or ()}
                for ref in source.get(key) or ():
                    if ref[field] not in have:
                        target.setdefault(key, []).append(ref)
                        have.add(ref[field])
            self._remove(source)
            for stix_id in (source["standard_id"], *source["x_opencti_stix_ids"]):
                self.alias(target, stix_id)
        now = self.clock.now()
        target["updated_at"] = now
        target["refreshed_at"] = now
        if target["entity_type"] == "Indicator":
            target["modified"] = now
        self.changed()
        self.on_merge(target, sources)
        return target

    def link(self, indicator: Record, observable: Record) -> None:
        self.based_on.setdefault(indicator["id"], set()).add(observable["id"])
        self.changed()

    def touch(self, record: Record) -> None:
        """An update: `updated_at` (and `modified` on domain objects) move to now."""
        now = self.clock.now()
        record["updated_at"] = now
        record["refreshed_at"] = now
        if record["entity_type"] == "Indicator":
            record["modified"] = now
        self.changed()
        self.on_event("update", record)

    def update(self, any_id: str, changes: dict[str, Any]) -> Record:
        record = self.resolve(any_id)
        if record is None or record["id"] not in self.entities:
            raise KeyError(any_id)
        for key, value in changes.items():
            if key == "labels":
                record["objectLabel"] = [self.label(v) for v in value]
            elif key == "markings":
                record["objectMarking"] = [self.marking(v) for v in value]
            elif key == "hashes":
                record["_hashes"] = dict(value)
                record["hashes"] = [{"algorithm": k, "hash": h} for k, h in value.items()]
            else:
                record[key] = value
        self.touch(record)
        return record

    def revoke(self, any_id: str) -> Record:
        return self.update(any_id, {"revoked": True})

    def expire(self) -> int:
        """The expiration manager: revoke indicators past `valid_until` (§6). Returns a count."""
        now = self.clock.now()
        count = 0
        for record in self.of_family("indicators"):
            until = record.get("valid_until")
            if until is not None and until < now and not record.get("revoked"):
                record.update(revoked=True, x_opencti_detection=False, x_opencti_score=REVOKE_SCORE)
                self.touch(record)
                count += 1
        return count

    def counts(self) -> dict[str, int]:
        indicators = sum(1 for _ in self.of_family("indicators"))
        return {
            "indicators": indicators,
            "observables": len(self.entities) - indicators,
            "labels": len(self.labels),
            "markings": len(self.markings),
            "identities": len(self.identities),
            "sightings": len(self.sightings),
        }
