"""One sightings pass: Tanium alerts since the cursor → OpenCTI sightings.

1. A batch a killed pass left in flight (`pending`) is replayed first, exactly as it was.
2. Alerts are read in `[start, until)`: `start` is the cursor, `until` is `now − settle`
   (alerts still arriving are left for the next pass). Without a cursor (first pass, lost
   file) or with `--since`, `start` is `now − lookback` (or `--since`) and the pass is a
   *recovery*: for each (object, host) the latest `last_seen` OpenCTI already holds is read,
   and only later alerts are counted — a re-read window never counts an alert twice.
3. Each alert is mapped through its document's ownership marker to the document's origins
   (`controller.core.sightings`): one sighting per (object, host, UTC day).
4. The batch and the cursor it leads to are saved (`pending`), then written; then the cursor
   moves on. OpenCTI failing leaves the batch pending for the next pass; Tanium is never
   written to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from controller.core.desired import DesiredState
from controller.core.model import Key, TaniumId
from controller.core.sightings import Aggregation, SightingWrite, aggregate
from controller.render.marker import owned_intel_key
from controller.sources.opencti.client import GraphQLClient
from controller.tanium.client import TaniumClient
from controller.tanium.pagination import gather_all
from controller.writeback import cursor as store
from controller.writeback.opencti import counted_until, system_id, write_sighting

log = logging.getLogger("octi_tanium.sightings")

SETTLE = timedelta(seconds=60)
LOOKBACK = timedelta(days=7)


@dataclass
class SightingsReport:
    since: datetime
    until: datetime
    recovery: bool
    dry_run: bool
    aggregation: Aggregation = field(default_factory=Aggregation)
    replayed: int = 0
    """Writes of a batch an earlier pass left in flight, replayed first."""
    written: int = 0
    state_file: str = ""

    @property
    def writes(self) -> list[SightingWrite]:
        return self.aggregation.writes

    def to_json(self) -> dict[str, object]:
        agg = self.aggregation
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "recovery": self.recovery,
            "dry_run": self.dry_run,
            "alerts": agg.alerts,
            "counted": agg.counted,
            "suppressed": agg.suppressed,
            "foreign": agg.foreign,
            "unmapped": agg.unmapped,
            "already_counted": agg.already,
            "hosts": sorted(agg.hosts),
            "replayed": self.replayed,
            "written": self.written,
            "sightings": [w.to_json() for w in agg.writes],
        }


def origins_by_key(desired: DesiredState) -> dict[Key, tuple[str, ...]]:
    """Desired intel key → the OpenCTI objects it came from (Git-kept intel has none)."""
    return {
        key: tuple(s for s in doc.sources if not s.startswith("static:"))
        for key, doc in desired.intel.items()
    }


async def sightings_pass(
    tanium: TaniumClient,
    opencti: GraphQLClient,
    desired: DesiredState,
    *,
    source_name: str,
    now: datetime,
    since: datetime | None = None,
    dry_run: bool = False,
    settle: timedelta = SETTLE,
    lookback: timedelta = LOOKBACK,
    path: Path | None = None,
) -> SightingsReport:
    path = path or store.state_path(tanium.url, source_name)
    state = store.load(path)
    replayed = 0
    if state.pending is not None and not dry_run:
        replayed = await _write_all(opencti, state, state.pending.writes)
        state.cursor, state.pending = state.pending.cursor, None
        store.save(path, state)
        log.info("replayed %d sighting write(s) of an interrupted pass", replayed)
    until = now - settle
    recovery = since is not None or state.cursor is None
    start = since or (state.cursor.alerted_at if state.cursor else now - lookback)
    report = SightingsReport(start, until, recovery, dry_run, replayed=replayed)
    report.state_file = str(path)
    if start >= until:
        return report
    owners = await _owned_documents(tanium, source_name)
    origins = origins_by_key(desired)
    skip = set(state.cursor.ids) if state.cursor and start == state.cursor.alerted_at else set()
    alerts = [a for a in await tanium.list_alerts(start, until) if a.id not in skip]
    counted: dict[tuple[str, str], datetime] | None = None
    if recovery:
        first = aggregate(alerts, owners, origins)
        counted = await _already_counted(opencti, state, first, dry_run=dry_run)
    report.aggregation = aggregate(alerts, owners, origins, counted)
    if dry_run:
        return report
    after = store.Cursor(until)
    if report.writes:
        state.pending = store.Pending(tuple(report.writes), after)
        store.save(path, state)
        report.written = await _write_all(opencti, state, report.writes)
    state.cursor, state.pending = after, None
    store.save(path, state)
    return report


async def _owned_documents(tanium: TaniumClient, source_name: str) -> dict[TaniumId, Key]:
    """Owned document id → key, read now (documents created since the pass's read count)."""
    source_id = await tanium.find_source(source_name)
    if source_id is None:
        return {}
    owners: dict[TaniumId, Key] = {}
    for doc in await tanium.list_intel(source_id):
        key = owned_intel_key(doc)
        if key is not None:
            owners[doc.id] = key
    return owners


async def _host(opencti: GraphQLClient, state: store.SightingsState, host: str) -> str:
    found = state.hosts.get(host)
    if found is None:
        found = state.hosts[host] = await system_id(opencti, host)
    return found


CONCURRENCY = 8
"""(object, host) pairs written at once; one pair's writes stay in time order, so each
widens the sighting it merges into (see `controller.core.sightings`)."""


async def _write_all(
    opencti: GraphQLClient, state: store.SightingsState, writes: Sequence[SightingWrite]
) -> int:
    for host in sorted({w.host for w in writes}):  # identities first, once each
        await _host(opencti, state, host)
    pairs: dict[tuple[str, str], list[SightingWrite]] = {}
    for write in writes:
        pairs.setdefault((write.object_id, write.host), []).append(write)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def pair(group: list[SightingWrite]) -> None:
        async with gate:
            for write in sorted(group, key=lambda w: (w.first_seen, w.last_seen)):
                await write_sighting(opencti, write, state.hosts[write.host])

    await gather_all(pair(group) for group in pairs.values())
    return len(writes)


async def _already_counted(
    opencti: GraphQLClient, state: store.SightingsState, first: Aggregation, *, dry_run: bool
) -> dict[tuple[str, str], datetime]:
    """(object, host) → the latest `last_seen` OpenCTI holds, for the pairs `first` would
    write. The host's identity is looked up by upserting it (it is about to be used anyway);
    a dry run only uses the ones it knows."""
    out: dict[tuple[str, str], datetime] = {}
    for pair in sorted({(w.object_id, w.host) for w in first.writes}):
        where = state.hosts.get(pair[1])
        if where is None and not dry_run:
            where = await _host(opencti, state, pair[1])
        if where is None:
            continue
        seen = await counted_until(opencti, pair[0], where)
        if seen is not None:
            out[pair] = seen
    return out
