"""What the emulated Tanium holds: records in dicts keyed by id, indexes, counters.

All mutation happens under `lock` (the HTTP layer holds it while a handler runs; the helpers
below take it too), so tests may call them while a real server thread is serving.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .models import (
    JSON,
    Deployment,
    Group,
    IntelDoc,
    Label,
    ReputationEntry,
    Revision,
    Scan,
    Source,
    iso,
)

IntrinsicKey = tuple[int, str, str]
"""(sourceId, type, intrinsicId) — the upsert identity of a document."""


@dataclass
class Session:
    token: str
    username: str
    created: float
    expired: bool = False


@dataclass
class Alert:
    id: int
    data: JSON
    """The Tanium JSON of the alert (camelCase, `details` a JSON string)."""
    alerted: datetime
    created: datetime


@dataclass
class Counters:
    requests: Counter[str] = field(default_factory=Counter)
    """`"<METHOD> <route template>"` → calls that reached the route (auth failures included)."""
    deploys: int = 0
    scans: int = 0
    scans_by_doc: Counter[int] = field(default_factory=Counter)
    scans_by_group: Counter[int] = field(default_factory=Counter)
    logins: int = 0

    def to_json(self) -> JSON:
        return {
            "requests": dict(sorted(self.requests.items())),
            "deploys": self.deploys,
            "scans": self.scans,
            "scansByDoc": {str(k): v for k, v in self.scans_by_doc.items()},
            "scansByGroup": {str(k): v for k, v in self.scans_by_group.items()},
            "logins": self.logins,
        }


@dataclass
class IntelSeed:
    """One document for `bulk_add_intel`: stored as given, without parsing or validation."""

    name: str
    contents: str = ""
    type: str = "openioc"
    description: str = ""
    intrinsic_id: str | None = None
    label_ids: list[int] = field(default_factory=list)
    platforms: list[str] | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TaniumState:
    def __init__(
        self,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.monotonic = monotonic
        self.lock = threading.RLock()
        self.clear()

    # ---------------------------------------------------------------- basics
    def clear(self) -> None:
        self.sources: dict[int, Source] = {}
        self.docs: dict[int, IntelDoc] = {}
        self.labels: dict[int, Label] = {}
        self.groups: dict[int, Group] = {}
        self.deployments: list[Deployment] = []
        self.scans: list[Scan] = []
        self.alerts: dict[int, Alert] = {}
        self.reputation: dict[int, ReputationEntry] = {}
        self.rep_by_hash: dict[str, int] = {}
        self.sessions: dict[str, Session] = {}
        self.label_members: dict[int, set[int]] = defaultdict(set)
        self.intrinsic_index: dict[IntrinsicKey, set[int]] = defaultdict(set)
        self.alerts_by_doc: dict[int, set[int]] = defaultdict(set)
        self.counters = Counters()
        self.intel_version = 0
        """Bumps on every change of the intel documents (invalidates list caches)."""
        self.list_cache: dict[tuple[Any, ...], list[int]] = {}
        self.undeployed_changes = 0
        self._ids: dict[str, int] = defaultdict(int)

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def now(self) -> str:
        return iso(self.clock())

    def touch_intel(self, content: bool = True) -> None:
        """Record a change of the documents; `content` changes also await a deploy."""
        self.intel_version += 1
        self.undeployed_changes += int(content)
        self.list_cache.clear()

    # ---------------------------------------------------------------- simple records
    def add_source(self, name: str, type: str = "api-client", description: str = "") -> Source:
        with self.lock:
            now = self.now()
            source = Source(self.next_id("source"), name, type, description, now, now)
            self.sources[source.id] = source
            return source

    def add_label(self, name: str, description: str = "") -> Label:
        with self.lock:
            now = self.now()
            label = Label(self.next_id("label"), name, description, now, now)
            self.labels[label.id] = label
            return label

    def add_group(self, name: str, group_id: int | None = None) -> Group:
        with self.lock:
            gid = group_id if group_id is not None else self.next_id("group")
            self._ids["group"] = max(self._ids["group"], gid)
            self.groups[gid] = Group(gid, name)
            return self.groups[gid]

    def label_counts(self, label_id: int) -> tuple[int, int]:
        """(indicatorCount, signalCount) of a label."""
        members = self.label_members.get(label_id, ())
        signals = sum(1 for d in members if self.docs[d].type == "tanium-signal")
        return len(members) - signals, signals

    def label_json(self, label: Label) -> JSON:
        return label.to_json(*self.label_counts(label.id))

    def alert_counts(self, doc_id: int) -> tuple[int, int]:
        ids = self.alerts_by_doc.get(doc_id, ())
        unresolved = sum(1 for a in ids if self.alerts[a].data["state"] == "unresolved")
        return len(ids), unresolved

    def doc_json(self, doc: IntelDoc, full: bool = False) -> JSON:
        return doc.to_json(*self.alert_counts(doc.id), full=full)

    # ---------------------------------------------------------------- documents
    def index_doc(self, doc: IntelDoc) -> None:
        if doc.intrinsic_id is not None:
            self.intrinsic_index[(doc.source_id, doc.type, doc.intrinsic_id)].add(doc.id)
        for label_id in doc.label_ids:
            self.label_members[label_id].add(doc.id)

    def unindex_doc(self, doc: IntelDoc) -> None:
        if doc.intrinsic_id is not None:
            key = (doc.source_id, doc.type, doc.intrinsic_id)
            self.intrinsic_index[key].discard(doc.id)
            if not self.intrinsic_index[key]:
                del self.intrinsic_index[key]
        for label_id in doc.label_ids:
            self.label_members[label_id].discard(doc.id)

    def store_doc(self, doc: IntelDoc) -> IntelDoc:
        doc.revisions.append(Revision(doc.revision_id, doc.md5, doc.size, doc.name, doc.updated_at))
        self.docs[doc.id] = doc
        self.index_doc(doc)
        self.touch_intel()
        return doc

    def bulk_add_intel(self, items: Iterable[IntelSeed], source_id: int) -> list[int]:
        """Store documents as given (no parsing, no schema validation): fast test/bench seeding."""
        with self.lock:
            if source_id not in self.sources:
                raise KeyError(f"unknown source {source_id}")
            now, ids = self.now(), []
            for item in items:
                data = item.contents.encode()
                doc = IntelDoc(
                    id=self.next_id("intel"),
                    source_id=source_id,
                    type=item.type,
                    name=item.name,
                    description=item.description,
                    intrinsic_id=item.intrinsic_id,
                    contents=item.contents,
                    md5=hashlib.md5(data).hexdigest(),
                    size=len(data),
                    created_at=now,
                    updated_at=now,
                    platforms=item.platforms,
                    label_ids=[lid for lid in item.label_ids if lid in self.labels],
                )
                self.store_doc(doc)
                ids.append(doc.id)
            return ids

    def seed_intel(self, count: int, source_id: int, prefix: str = "bulk") -> list[int]:
        """`count` small OpenIOC documents named `<prefix>-<n>` with intrinsicId `<prefix>-<n>`."""
        return self.bulk_add_intel(
            (
                IntelSeed(
                    name=f"{prefix}-{n}",
                    description=f"bulk document {n}",
                    intrinsic_id=f"{prefix}-{n}",
                    contents=f'<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="{prefix}-{n}">'
                    f"<short_description>{prefix}-{n}</short_description><definition/></ioc>",
                )
                for n in range(count)
            ),
            source_id,
        )

    # ---------------------------------------------------------------- reputation
    def index_entry(self, entry: ReputationEntry) -> None:
        for h in entry.hashes():
            self.rep_by_hash[h] = entry.id

    def unindex_entry(self, entry: ReputationEntry) -> None:
        for h in entry.hashes():
            if self.rep_by_hash.get(h) == entry.id:
                del self.rep_by_hash[h]

    def seed_reputation(
        self, count: int, list_name: str = "blacklist", notes: str = "bulk"
    ) -> list[int]:
        """`count` entries with distinct md5/sha1/sha256 derived from a counter."""
        with self.lock:
            now, ids = self.now(), []
            for n in range(count):
                seed = f"{notes}-{n}-{self._ids['reputation']}".encode()
                entry = ReputationEntry(
                    id=self.next_id("reputation"),
                    list_name=list_name,
                    md5=hashlib.md5(seed).hexdigest(),
                    sha1=hashlib.sha1(seed).hexdigest(),
                    sha256=hashlib.sha256(seed).hexdigest(),
                    uploaded_hash=None,
                    notes=f"{notes} {n}",
                    created_at=now,
                )
                entry.uploaded_hash = entry.sha256
                self.reputation[entry.id] = entry
                self.index_entry(entry)
                ids.append(entry.id)
            return ids

    # ---------------------------------------------------------------- introspection
    def snapshot(self, contents: bool = True) -> JSON:
        with self.lock:
            docs = []
            deployed = self.deployments[-1].doc_revisions if self.deployments else {}
            for doc in self.docs.values():
                item = self.doc_json(doc, full=contents)
                item["labels"] = [self.labels[i].name for i in doc.label_ids if i in self.labels]
                item["revisions"] = [r.to_json() for r in doc.revisions]
                item["deployedRevision"] = deployed.get(doc.id)
                docs.append(item)
            return {
                "sources": [s.to_json() for s in self.sources.values()],
                "intels": docs,
                "labels": [self.label_json(label) for label in self.labels.values()],
                "groups": [g.to_json() for g in self.groups.values()],
                "deployments": [d.to_json() for d in self.deployments],
                "undeployedChanges": self.undeployed_changes,
                "scans": [s.to_json() for s in self.scans],
                "alerts": [a.data for a in self.alerts.values()],
                "reputation": [e.to_json() for e in self.reputation.values()],
                "counters": self.counters.to_json(),
            }
