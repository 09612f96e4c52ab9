"""`--source opencti`, incrementally: between full fetches, read only what changed since the
last one and merge it into a local snapshot. The result is the `SourceSnapshot` a full fetch
(`fetch.py`) would give at the same moment — same objects, order, completeness, query hash —
so the plans are identical (the hypothesis test `tests/opencti/test_incremental.py` compares
them over random change sequences).

One pass, for each listing the policies need (`plan_for`: the same queries as a full fetch):

1. the high-water mark first: the newest `updated_at` in OpenCTI (one request, server clock);
2. then, concurrently: the listing's objects with `updated_at >= previous mark - overlap`
   (upserted), the ids of *everything* of that family changed since then without the policy
   filters (a changed object the listing no longer returns has left it: removed), and the
   listing's `globalCount`;
3. when the snapshot then holds more objects than the listing matches, something was deleted
   or merged away: the ids `run`'s live stream saw go (`hint_gone`) are dropped first, and if
   the counts still differ, `_Finder` counts the listing over ranges of the objects' creation
   dates and lists ids only in the ranges whose count differs from the snapshot's (after the
   upserts: see its doc for why an equal count then proves the same set); if it holds fewer,
   the changes missed something and the pass becomes a full fetch.

The overlap (default 60 s) covers what `updated_at` alone cannot: an object written a moment
before the mark was read but not yet searchable (Elasticsearch refreshes about every second),
and clocks that differ between the platform's API nodes. Objects in the overlap are read twice;
that costs a few objects, never correctness.

A full fetch instead, and the snapshot rewritten, when: there is no snapshot, it is corrupt or
of another format, another OpenCTI URL or query hash (policies or marking definitions
changed), the previous fetch was incomplete, every `fullEvery`-th pass, or a policy uses a
window relative to now (`created.within`, `updated.within`: objects leave such a window
without changing, so nothing but a full listing can tell). What no `updated_at` reveals — a
label or marking definition renamed in place — is caught by the periodic full fetch.

The snapshot lives in `$OCTI_TANIUM_STATE_DIR/opencti-snapshot-<hash of the URL>.jsonl`
(a header line, then one JSON array per object: the mapped fields, not the GraphQL nodes;
parsed 4,096 rows per `json.loads`, with dates, tuples and repeated strings shared),
replaced atomically, written by full fetches only (rewriting 100,000 objects costs seconds);
`run` keeps the current snapshot in memory between passes. The file is always a consistent
older snapshot: a restarted process reads the changes since its mark. It only saves work:
deleting it costs one full fetch.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import itertools
import json
import logging
import os
from bisect import bisect_left
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from controller.collector import paused
from controller.core.model import SourceObject, SourceSnapshot
from controller.lease.config import state_dir
from controller.policy.located import PolicySet
from controller.policy.models import Select
from controller.retry import Timing
from controller.sources.opencti.client import GraphQLClient
from controller.sources.opencti.fetch import (
    PAGE_FAILURES,
    Progress,
    _Listing,
    gather,
    plan_for,
    scan,
    scan_all,
    selects_of,
    snapshot_of,
)
from controller.sources.opencti.filters import FamilyQuery, flt, group, iso_floor
from controller.sources.opencti.mapping import SENTINEL_DATES, parse_date
from controller.sources.opencti.queries import HIGH_WATER, INDICATOR_IDS, OBSERVABLE_IDS
from controller.sources.opencti.settings import (
    MAX_PAGE_SIZE,
    OpenCTISettings,
    OpenCTISettingsError,
)
from controller.state_files import write_lines_atomically

log = logging.getLogger("octi_tanium.source")

FORMAT = "octi-tanium/opencti-snapshot/v1"
DEFAULT_FULL_EVERY = 12
DEFAULT_OVERLAP = 60.0

_FIELDS = tuple(SourceObject.model_fields)
_DATES = frozenset({"valid_from", "valid_until", "created", "modified"})
_TUPLES = frozenset({"platforms", "labels", "markings"})
_DATE_AT = tuple(i for i, name in enumerate(_FIELDS) if name in _DATES)
_ALL_FIELDS = set(_FIELDS)
T = TypeVar("T")

# ---------------------------------------------------------------------------- settings


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "yes", "1"):
        return True
    if raw in ("off", "false", "no", "0"):
        return False
    raise OpenCTISettingsError(f"{name}={raw!r}: use `on` or `off`")


def _number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip().removesuffix("s")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise OpenCTISettingsError(f"{name}={raw!r}: use a number, at least {minimum:g}")
    return value


@dataclass(frozen=True)
class IncrementalSettings:
    """`OCTI_TANIUM_INCREMENTAL` (`on`/`off`; default on for `run`, off for `plan`/`apply`),
    `OCTI_TANIUM_FULL_EVERY` (every N-th pass is a full fetch; default 12, 1 = always),
    `OCTI_TANIUM_INCREMENTAL_OVERLAP` (seconds re-read before the high-water mark; 60)."""

    enabled: bool = True
    full_every: int = DEFAULT_FULL_EVERY
    overlap: timedelta = timedelta(seconds=DEFAULT_OVERLAP)

    @classmethod
    def from_env(cls, *, default: bool) -> IncrementalSettings:
        return cls(
            enabled=_flag("OCTI_TANIUM_INCREMENTAL", default),
            full_every=int(_number("OCTI_TANIUM_FULL_EVERY", DEFAULT_FULL_EVERY, 1)),
            overlap=timedelta(
                seconds=_number("OCTI_TANIUM_INCREMENTAL_OVERLAP", DEFAULT_OVERLAP, 0)
            ),
        )


# ---------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class FetchReport:
    """What one fetch did (the pass log and metrics say it)."""

    kind: Literal["full", "incremental"]
    reason: str = ""
    """Why this was a full fetch ("" for an incremental one)."""
    changed: int = 0
    """Objects that differ from the local snapshot's (incremental), or every object (full)."""
    removed: int = 0
    read: int = 0
    """Objects read (an incremental fetch re-reads the overlap)."""
    objects: int = 0
    requests: int = 0

    def text(self) -> str:
        if self.kind == "full":
            return (
                f"OpenCTI: full fetch ({self.reason}): {self.objects:,} objects, "
                f"{self.requests:,} requests"
            )
        return (
            f"OpenCTI: incremental fetch: {self.changed:,} changed, {self.removed:,} removed, "
            f"{self.objects:,} objects, {self.requests:,} requests"
        )


_observers: list[Callable[[FetchReport], None]] = []


def observe(callback: Callable[[FetchReport], None]) -> None:
    """Call `callback` with the report of every fetch this module makes (`run`'s metrics)."""
    _observers.append(callback)


# ---------------------------------------------------------------------------- stream hints

_gone: dict[str, set[str]] = {}


def hint_gone(url: str, internal_ids: Iterable[str]) -> None:
    """The live stream saw these objects deleted or merged away (`run`'s stream hook; `url`
    as `OpenCTISettings.url` spells it): the next incremental fetch of `url` drops them
    without listing every id, when the counts then agree. Only a hint: without it the count
    check still finds every deletion."""
    _gone.setdefault(url, set()).update(internal_ids)


# ---------------------------------------------------------------------------- the local snapshot


def _key(obj: SourceObject) -> str:
    return obj.internal_id or obj.standard_id


def _family(obj: SourceObject) -> str:
    return "indicators" if obj.entity_type == "Indicator" else "observables"


@dataclass
class Listed:
    """A snapshot's objects as `snapshot_of` lists them (sorted by standard id), kept when no
    two share a standard id — the usual case — with each by its standard id: the next pass
    applies its few changes to them (`after`) instead of sorting 500,000 objects again."""

    objects: list[SourceObject]
    by_standard: dict[str, SourceObject]

    @classmethod
    def of(cls, objects: Sequence[SourceObject], size: int) -> Listed | None:
        """`objects` (a snapshot's, of a store of `size` objects); None when some shared a
        standard id (the snapshot then holds fewer)."""
        if len(objects) != size:
            return None
        return cls(list(objects), {obj.standard_id: obj for obj in objects})

    def after(
        self, replaced: Sequence[SourceObject], fresh: Sequence[SourceObject]
    ) -> Listed | None:
        """These objects once `replaced` (removed, or upserted over: the very objects held)
        are taken out and `fresh` put in; None when two objects could then share a standard
        id (which one stays is the listing order's to say: the caller lists them all)."""
        out = {obj.standard_id for obj in replaced}
        arriving = {obj.standard_id for obj in fresh}
        if len(arriving) != len(fresh) or any(
            standard in self.by_standard and standard not in out for standard in arriving
        ):
            return None
        gone = set(map(id, replaced))
        objects = [obj for obj in self.objects if id(obj) not in gone]
        if len(objects) + len(gone) != len(self.objects):  # not the objects held: start over
            return None
        objects.extend(fresh)
        objects.sort(key=_STANDARD)  # two sorted runs: merged in one linear pass
        by_standard = dict(self.by_standard)
        for standard in out:
            del by_standard[standard]
        by_standard.update((obj.standard_id, obj) for obj in fresh)
        return Listed(objects, by_standard)


_STANDARD = attrgetter("standard_id")


@dataclass
class Stored:
    """The snapshot as of the last fetch: objects by family and key (internal id), the
    high-water mark (None: OpenCTI held nothing), incremental passes since the last full."""

    url: str
    query_hash: str
    high_water: datetime | None
    since_full: int
    families: dict[str, dict[str, SourceObject]] = field(default_factory=dict)
    listed: Listed | None = field(default=None, compare=False, repr=False)
    """Its objects as the snapshot lists them, once an incremental pass has listed them
    (in memory only: `run`'s next pass starts from them)."""

    @property
    def size(self) -> int:
        return sum(len(objects) for objects in self.families.values())

    def ordered(self, order: Sequence[str]) -> Iterator[SourceObject]:
        """Family by family in the listings' order, each as OpenCTI lists it (standard id,
        then internal id): the order a full fetch reads them in."""
        for family in order:
            objects = self.families.get(family, {})
            yield from sorted(objects.values(), key=lambda o: (o.standard_id, _key(o)))


def snapshot_path(url: str) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return state_dir() / f"opencti-snapshot-{digest}.jsonl"


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""One encoder for every row: `json.dumps` with options builds a new one per call."""


def _encode(obj: SourceObject, stamps: dict[Any, str] | None = None) -> str:
    """The object's row: its fields in the model's order, dates as ISO strings (`stamps`
    caches them: most objects share a few dates; keyed with the UTC offset, which equal
    datetimes need not share)."""
    row: list[Any] = [getattr(obj, name) for name in _FIELDS]
    for i in _DATE_AT:
        value = row[i]
        if value is not None:
            if stamps is None:
                row[i] = value.isoformat()
                continue
            key = (value, value.utcoffset())
            text = stamps.get(key)
            if text is None:
                text = stamps[key] = value.isoformat()
            row[i] = text
    return _ENCODER.encode(row)


def _rows(lines: Iterable[str], batch: int = 4096) -> Iterator[Any]:
    """The rows, parsed `batch` lines per `json.loads` (3× faster than one call per line, and
    unlike one call for the whole file, memory holds one batch of text): rows are compact
    JSON, whose strings escape newlines, so each line is one row."""
    chunk: list[str] = []
    for line in lines:
        line = line.rstrip("\n")
        if line:
            chunk.append(line)
        if len(chunk) >= batch:
            yield from json.loads("[" + ",".join(chunk) + "]")
            chunk.clear()
    if chunk:
        yield from json.loads("[" + ",".join(chunk) + "]")


class _Decoder:
    """Rows → objects. Values many objects share (dates, label and marking tuples, entity
    types) are built once and shared: faster, and the snapshot takes less memory."""

    def __init__(self) -> None:
        self.dates: dict[str, datetime] = {}
        self.tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.strings: dict[str, str] = {}

    def object(self, row: Any) -> SourceObject:
        if not isinstance(row, list) or len(row) != len(_FIELDS):
            raise ValueError("a row of the wrong length")
        dates, tuples, strings = self.dates, self.tuples, self.strings
        for i in _DATE_AT:
            value = row[i]
            if value is not None:
                found = dates.get(value)
                if found is None:
                    found = dates[value] = datetime.fromisoformat(value)
                row[i] = found
        for i in _TUPLE_AT:
            key = tuple(row[i])
            row[i] = tuples.setdefault(key, key)
        for i in _SHARED_AT:
            value = row[i]
            if isinstance(value, str):
                row[i] = strings.setdefault(value, value)
        if not isinstance(row[_STANDARD_AT], str) or not isinstance(row[_HASHES_AT], dict):
            raise ValueError("a row without a standard id")
        return _construct(dict(zip(_FIELDS, row, strict=True)))


_SHARED = frozenset({"entity_type", "pattern_type", "main_observable_type", "description"})
_TUPLE_AT = tuple(i for i, name in enumerate(_FIELDS) if name in _TUPLES)
_SHARED_AT = tuple(i for i, name in enumerate(_FIELDS) if name in _SHARED)
_STANDARD_AT = _FIELDS.index("standard_id")
_HASHES_AT = _FIELDS.index("hashes")


def _decode(line: str) -> SourceObject:
    """One row (tests; `load` decodes the whole body at once)."""
    return _Decoder().object(json.loads(line))


_setattr = object.__setattr__
_FAST = not (SourceObject.__pydantic_post_init__ or SourceObject.__pydantic_root_model__)


def _construct(fields: dict[str, Any]) -> SourceObject:
    """`SourceObject.model_construct(_ALL_FIELDS, **fields)` without its per-call work (60 %
    of reading the file): the fields are complete and typed, in the model's order."""
    if not _FAST:  # pragma: no cover - a model with a post-init hook takes the slow way
        return SourceObject.model_construct(_ALL_FIELDS, **fields)
    obj = SourceObject.__new__(SourceObject)
    _setattr(obj, "__dict__", fields)
    _setattr(obj, "__pydantic_fields_set__", _ALL_FIELDS)
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj


def save(path: Path, stored: Stored) -> None:
    header = {
        "format": FORMAT,
        "fields": list(_FIELDS),
        "url": stored.url,
        "query_hash": stored.query_hash,
        "high_water": stored.high_water.isoformat() if stored.high_water else None,
        "since_full": stored.since_full,
        "objects": stored.size,
    }

    def lines() -> Iterator[str]:
        yield json.dumps(header, sort_keys=True)
        stamps: dict[Any, str] = {}
        for objects in stored.families.values():
            for obj in objects.values():
                yield _encode(obj, stamps)

    write_lines_atomically(path, lines())
    _memory[path] = (_stamp(path), stored)


def load(path: Path) -> tuple[Stored | None, str]:
    """The stored snapshot, or None and why it cannot be used."""
    stamp = _stamp(path)
    if stamp is None:
        return None, "no local snapshot yet"
    cached = _memory.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1], ""
    collecting = gc.isenabled()
    gc.disable()  # millions of new containers, all kept: collections would only cost (2×)
    try:
        with path.open(encoding="utf-8") as lines:
            header = json.loads(next(lines, "null"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                return None, f"{path} is not a {FORMAT} file"
            if header.get("fields") != list(_FIELDS):
                return None, f"{path} was written by another version (other fields)"
            decoder = _Decoder()
            families: dict[str, dict[str, SourceObject]] = {}
            for row in _rows(lines):
                obj = decoder.object(row)
                families.setdefault(_family(obj), {})[_key(obj)] = obj
        high_water = header["high_water"]
        stored = Stored(
            url=str(header["url"]),
            query_hash=str(header["query_hash"]),
            high_water=datetime.fromisoformat(high_water) if high_water else None,
            since_full=int(header["since_full"]),
            families=families,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"{path} is unreadable ({type(exc).__name__}: {exc})"
    finally:
        if collecting:
            gc.enable()
    if stored.size != header.get("objects"):
        return None, f"{path} is truncated ({stored.size} of {header.get('objects')} objects)"
    _memory[path] = (stamp, stored)
    return stored, ""


def forget(path: Path) -> None:
    """Drop the snapshot (the next fetch is a full one)."""
    _memory.pop(path, None)
    path.unlink(missing_ok=True)


_memory: dict[Path, tuple[tuple[int, int] | None, Stored]] = {}
"""The last snapshot each file held, as this process wrote or read it: `run` does not parse
the file again on every pass. Keyed by the file's (mtime, size): another process's write is
read from the file."""


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


# ---------------------------------------------------------------------------- the listings


async def high_water(client: GraphQLClient) -> datetime | None:
    """The newest `updated_at` of any indicator or observable (None: there are none)."""
    data = await client.execute(HIGH_WATER)  # auth and query errors are raised
    marks: list[datetime] = []
    for root in ("indicators", "stixCyberObservables"):
        conn = data.get(root)
        if not isinstance(conn, dict):
            raise _Unreadable(f"the high-water mark: the reply has no {root}")
        for edge in conn.get("edges") or ():
            stamp = parse_date((edge.get("node") or {}).get("updated_at"))
            if stamp is None:
                raise _Unreadable("the high-water mark: a node without updated_at")
            marks.append(stamp)
    return max(marks) if marks else None


class _Unreadable(Exception):
    """A listing of the incremental path failed: the pass falls back to a full fetch."""


def _ids_query(query: FamilyQuery, filters: dict[str, Any] | None) -> FamilyQuery:
    ids = INDICATOR_IDS if query.family == "indicators" else OBSERVABLE_IDS
    return replace(query, operation=ids, filters=filters)


def _since(query: FamilyQuery, since: datetime) -> dict[str, Any]:
    changed = flt("updated_at", [iso_floor(since)], "gte")
    inner = [query.filters] if query.filters is not None else []
    return group("and", [changed], inner)


async def _ids(
    client: GraphQLClient, query: FamilyQuery, *, count_only: bool = False
) -> tuple[set[str], int]:
    """The keys (internal ids) `query` lists and how many; `count_only`: its globalCount
    alone (one object read). Raises `_Unreadable` when a page failed or the counts disagree."""
    if count_only:
        data = await _execute(client, query, query.variables(1, None))
        conn = data.get(query.operation.root_field)
        info = conn.get("pageInfo") if isinstance(conn, dict) else None
        total = info.get("globalCount") if isinstance(info, dict) else None
        if not isinstance(total, int):
            raise _Unreadable(f"{query.family}: the reply has no globalCount")
        return set(), total
    keys: set[str] = set()

    def consume(node: dict[str, Any]) -> None:
        key = node.get("id") or node.get("standard_id")
        if isinstance(key, str):
            keys.add(key)

    listing = _Listing(f"{query.family} (ids)", consume, None)
    await listing.run(client, query.operation, lambda after: query.variables(MAX_PAGE_SIZE, after))
    if listing.reasons:
        raise _Unreadable("; ".join(listing.reasons))
    return keys, listing.count


async def _execute(
    client: GraphQLClient, query: FamilyQuery, variables: dict[str, Any]
) -> dict[str, Any]:
    try:
        return await client.execute(query.operation, variables)
    except PAGE_FAILURES as exc:
        raise _Unreadable(f"{query.family}: {exc}") from exc


# ---------------------------------------------------------------------------- deletions

PARTITION_KEYS = {"indicators": "created", "observables": "created_at"}
"""The date a family's objects are partitioned on to find deletions: the one the snapshot
keeps (`SourceObject.created`), filterable with gte/lt."""
TOP_PIECES = 64
"""At most this many partitions at the first level (2 per object gone, at least 2)."""
PIECES = 16
"""At most this many pieces a partition whose count differs is cut into."""
LEAF = 500
"""A partition of at most this many objects (or of one date) is listed, not cut again."""
IN_FLIGHT = 8
"""Counts and listings of partitions sent at once."""
COUNT_COST = 10_000
"""What one count request costs, in ids listed. About 8 counts find each object gone (one per
halving, the last piece's count being derived), so the partitions are counted only while
8 × COUNT_COST × (objects gone) is below the snapshot's size; with more deletions one listing
of every id costs less. Measured against the emulator, which filters and sorts every object
for each distinct query: a count ~0.5 s at 100,000, a page of 5,000 ids ~0.25 s. For
OpenCTI a count is one Elasticsearch range count, and listing ids loads every document:
a lower value would likely pay (not measured)."""


@dataclass
class _Finder:
    """Which objects of the snapshot (after this pass's upserts) the listing no longer
    matches, from `globalCount`s over ranges of their creation date instead of the ids of
    every object: the snapshot's objects, sorted by that date, are cut into partitions; a
    partition whose server count equals its number of snapshot objects holds no deletion,
    one whose count is 0 lost all of them, and the others are cut again — or, once small, or
    all of one date, their ids are listed.

    A count equal to the snapshot's proves the same set only because every object the
    server holds is in the snapshot: unchanged since the mark, it is as stored (same date,
    same partition), and changed, this pass read it. That is why the counts are compared
    with the snapshot *after* the upserts (a create and a delete in one partition would
    cancel otherwise). A partition counting more than the snapshot holds breaks that premise:
    something was missed and the pass becomes a full fetch — as does a total that does not
    come out right at the end.

    Objects without a date (observables with OpenCTI's "no date" sentinel) and any the
    server holds outside the dates' span make the rest: its count is the listing's total
    minus the partitions', and its ids are listed when it differs."""

    client: GraphQLClient
    query: FamilyQuery
    keys: frozenset[str]
    gone: set[str] = field(default_factory=set)
    limit: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(IN_FLIGHT))

    @property
    def key(self) -> str:
        return PARTITION_KEYS[self.query.family]

    def _range(self, lo: str, hi: str) -> dict[str, Any]:
        return group("and", [flt(self.key, [lo], "gte"), flt(self.key, [hi], "lt")])

    def _rest(self, lo: str, hi: str) -> dict[str, Any]:
        outside = [flt(self.key, [lo], "lt"), flt(self.key, [hi], "gte"), flt(self.key, [], "nil")]
        return group("or", outside)

    def _within(self, part: dict[str, Any] | None) -> FamilyQuery:
        if part is None:
            return _ids_query(self.query, self.query.filters)
        inner = [self.query.filters] if self.query.filters is not None else []
        return _ids_query(self.query, group("and", [], [*inner, part]))

    async def _count(self, part: dict[str, Any]) -> int:
        async with self.limit:
            return (await _ids(self.client, self._within(part), count_only=True))[1]

    async def _list(self, part: dict[str, Any] | None, members: Sequence[str]) -> None:
        async with self.limit:
            listed, _ = await _ids(self.client, self._within(part))
        unknown = listed - self.keys
        if unknown:
            raise _Unreadable(
                f"{len(unknown)} {self.query.family} the policies match were not among the "
                "changes read"
            )
        self.gone.update(set(members) - listed)

    async def find(self, objects: dict[str, SourceObject], count: int) -> set[str]:
        if len(objects) <= max(LEAF, 8 * COUNT_COST * (len(objects) - count)):
            await self._list(None, list(objects))  # costs less than counting partitions
            return self.gone
        dated: list[tuple[str, str]] = []
        undated: list[str] = []
        for key, obj in objects.items():
            created = obj.created
            if created is None or (created.tzinfo is not None and created in SENTINEL_DATES):
                undated.append(key)
            else:
                dated.append((iso_floor(created), key))
        if not dated:  # nothing to partition on: list them all
            await self._list(None, undated)
            return self.gone
        dated.sort()
        lo, hi = dated[0][0], _next_ms(dated[-1][0])
        pieces = _cut(dated, lo, hi, min(TOP_PIECES, max(2, 2 * (len(objects) - count))))
        counts = await _all([self._count(self._range(a, b)) for a, b, _ in pieces])
        rest = count - sum(counts)
        await _all(
            [
                self._resolve(a, b, members, n)
                for (a, b, members), n in zip(pieces, counts, strict=True)
            ]
            + [self._settle(self._rest(lo, hi), None, undated, rest)]
        )
        return self.gone

    async def _resolve(self, lo: str, hi: str, members: list[tuple[str, str]], count: int) -> None:
        await self._settle(self._range(lo, hi), (lo, hi, members), [k for _, k in members], count)

    async def _settle(
        self,
        part: dict[str, Any],
        span: tuple[str, str, list[tuple[str, str]]] | None,
        keys: list[str],
        count: int,
    ) -> None:
        """`keys`: the snapshot's objects in `part`; `count`: the server's."""
        if count == len(keys):
            return
        if count > len(keys) or count < 0:
            raise _Unreadable(
                f"{self.query.family}: a partition counts {count} objects, the snapshot "
                f"{len(keys)}: changes were missed or made during the pass"
            )
        if count == 0:
            self.gone.update(keys)
            return
        if span is None or len(keys) <= LEAF or span[2][0][0] == span[2][-1][0]:
            await self._list(part, keys)
            return
        lo, hi, members = span
        pieces = _cut(members, lo, hi, min(PIECES, max(2, 2 * (len(keys) - count))))
        counts = await _all([self._count(self._range(a, b)) for a, b, _ in pieces[:-1]])
        counts.append(count - sum(counts))  # the last piece's: what the others leave
        await _all([self._resolve(a, b, m, n) for (a, b, m), n in zip(pieces, counts, strict=True)])


def _cut(
    members: list[tuple[str, str]], lo: str, hi: str, pieces: int
) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """`members` (sorted (date, key), all in [lo, hi)) in up to `pieces` ranges of about as
    many objects each, cut between dates (objects of one date stay together)."""
    stamps = [stamp for stamp, _ in members]
    bounds = [lo]
    for j in range(1, pieces):
        cut = stamps[j * len(members) // pieces]
        if cut > bounds[-1]:
            bounds.append(cut)
    bounds.append(hi)
    out = []
    for a, b in itertools.pairwise(bounds):
        out.append((a, b, members[bisect_left(stamps, a) : bisect_left(stamps, b)]))
    return out


def _next_ms(stamp: str) -> str:
    """The millisecond after an `iso_floor` stamp."""
    return iso_floor(
        datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(milliseconds=1)
    )


async def _all(calls: list[Coroutine[Any, Any, T]]) -> list[T]:
    try:
        async with asyncio.TaskGroup() as tasks:
            started = [tasks.create_task(call) for call in calls]
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    return [task.result() for task in started]


@dataclass
class _Delta:
    family: str
    changed: set[str]
    objects: list[SourceObject]
    count: int


async def _delta(
    client: GraphQLClient,
    query: FamilyQuery,
    since: datetime | None,
    page_size: int,
    progress: Progress | None,
) -> _Delta:
    if since is None:  # OpenCTI held nothing: everything is new
        changed_query, delta_query = _ids_query(query, None), query
    else:
        changed_query = _ids_query(query, _since(replace(query, filters=None), since))
        delta_query = replace(query, filters=_since(query, since))
    try:
        async with asyncio.TaskGroup() as tasks:
            changed = tasks.create_task(_ids(client, changed_query))
            objects = tasks.create_task(_objects(client, delta_query, page_size, progress))
            count = tasks.create_task(
                _ids(client, _ids_query(query, query.filters), count_only=True)
            )
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    return _Delta(query.family, changed.result()[0], objects.result(), count.result()[1])


def _first(failed: BaseExceptionGroup[BaseException]) -> BaseException:
    first: BaseException = failed
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first


async def _objects(
    client: GraphQLClient, query: FamilyQuery, page_size: int, progress: Progress | None
) -> list[SourceObject]:
    objects, reasons = await scan(client, query, page_size, progress)
    if reasons:
        raise _Unreadable("; ".join(reasons))
    return objects


def _relative(selects: Sequence[Select]) -> str:
    for select in selects:
        for window in (select.created, select.updated):
            if window is not None and window.within is not None:
                return "a policy's created/updated window is relative to now (`within`)"
    return ""


# ---------------------------------------------------------------------------- the fetch


async def fetch_incremental(
    settings: OpenCTISettings,
    policies: PolicySet,
    *,
    now: datetime,
    page_size: int = 500,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timing: Timing | None = None,
    options: IncrementalSettings | None = None,
) -> SourceSnapshot:
    """The snapshot a full `fetch_snapshot` would give, read incrementally when the local
    snapshot allows (module doc). `options` default to the environment's, enabled."""
    snapshot, _ = await fetch_reported(
        settings,
        policies,
        now=now,
        page_size=page_size,
        progress=progress,
        transport=transport,
        timing=timing,
        options=options,
    )
    return snapshot


async def fetch_reported(
    settings: OpenCTISettings,
    policies: PolicySet,
    *,
    now: datetime,
    page_size: int = 500,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timing: Timing | None = None,
    options: IncrementalSettings | None = None,
) -> tuple[SourceSnapshot, FetchReport]:
    """`fetch_incremental`, and what it did."""
    options = options or IncrementalSettings.from_env(default=True)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    path = snapshot_path(settings.url)
    async with GraphQLClient(settings, transport=transport, timing=timing) as client:
        with paused():  # as `fetch_snapshot`
            snapshot, report = await _fetch(
                client, selects_of(policies), settings.url, path, now, page_size, progress, options
            )
        report = replace(report, requests=client.requests, objects=len(snapshot.objects))
    log.info("%s", report.text())
    for callback in _observers:
        callback(report)
    return snapshot, report


async def _fetch(
    client: GraphQLClient,
    selects: Sequence[Select],
    url: str,
    path: Path,
    now: datetime,
    page_size: int,
    progress: Progress | None,
    options: IncrementalSettings,
) -> tuple[SourceSnapshot, FetchReport]:
    why = ""
    try:
        mark: datetime | None = await high_water(client)
        marked = True
    except (_Unreadable, *PAGE_FAILURES) as exc:
        mark, marked = None, False
        why = f"the high-water mark could not be read: {exc}"
    queries, query_hash = await plan_for(client, selects, now=now, page_size=page_size)
    order = [q.family for q in queries]
    relative = _relative(selects)
    stored, why_not = (None, relative) if relative else load(path) if marked else (None, why)
    reason = why_not
    if stored is not None and not reason:
        if stored.url != url:
            reason = "the local snapshot is of another OpenCTI"
        elif stored.query_hash != query_hash:
            reason = "the policies' queries changed"
        elif stored.since_full + 1 >= options.full_every:
            reason = f"every {options.full_every} passes"
    if stored is not None and not reason:
        try:
            return await _incremental(
                client, queries, query_hash, stored, mark, now, page_size, progress, options, path
            )
        except _Unreadable as exc:
            reason = f"the changes could not all be read ({exc})"
    snapshot = await scan_all(
        client, queries, query_hash, now=now, page_size=page_size, progress=progress
    )
    if relative:  # every pass is a full one: a snapshot file would only cost its writing
        forget(path)
    elif snapshot.complete and marked:
        families: dict[str, dict[str, SourceObject]] = {}
        for obj in snapshot.objects:
            families.setdefault(_family(obj), {})[_key(obj)] = obj
        stored = Stored(url, query_hash, mark, 0, {f: families.get(f, {}) for f in order})
        stored.listed = Listed.of(snapshot.objects, stored.size)
        save(path, stored)
    else:
        forget(path)  # the next pass is a full one
    return snapshot, FetchReport(
        "full", reason, changed=len(snapshot.objects), read=len(snapshot.objects)
    )


def _drop(objects: dict[str, SourceObject], key: str, into: list[SourceObject]) -> bool:
    """Remove `key` from `objects`, noting the object removed in `into`; whether it was held."""
    old = objects.pop(key, None)
    if old is not None:
        into.append(old)
    return old is not None


async def _incremental(
    client: GraphQLClient,
    queries: Sequence[FamilyQuery],
    query_hash: str,
    stored: Stored,
    mark: datetime | None,
    now: datetime,
    page_size: int,
    progress: Progress | None,
    options: IncrementalSettings,
    path: Path,
) -> tuple[SourceSnapshot, FetchReport]:
    since = stored.high_water - options.overlap if stored.high_water is not None else None
    hinted = _gone.pop(stored.url, set())
    deltas = await gather([_delta(client, q, since, page_size, progress) for q in queries])
    families: dict[str, dict[str, SourceObject]] = {}
    changed = removed = read = 0
    replaced: list[SourceObject] = []  # the objects held that this pass removed or upserted over
    arrived: list[SourceObject] = []
    for query, delta in zip(queries, deltas, strict=True):
        objects = dict(stored.families.get(query.family, {}))
        fresh = {_key(obj): obj for obj in delta.objects}
        read += len(delta.objects)
        for key in delta.changed - fresh.keys():  # changed, and no longer listed
            removed += _drop(objects, key, replaced)
        changed += sum(1 for key, obj in fresh.items() if objects.get(key) != obj)
        replaced.extend(old for old in map(objects.get, fresh) if old is not None)
        objects.update(fresh)
        arrived.extend(fresh.values())
        if len(objects) > delta.count and hinted:  # the stream saw these go
            for key in hinted - fresh.keys():
                removed += _drop(objects, key, replaced)
        if len(objects) > delta.count:  # deleted or merged away
            finder = _Finder(client, query, frozenset(objects))
            gone = await finder.find(objects, delta.count)
            for key in gone:
                _drop(objects, key, replaced)
            removed += len(gone)
        if len(objects) != delta.count:  # missed, or a deletion not found: read it all
            raise _Unreadable(
                f"{query.family}: the snapshot holds {len(objects)} objects after the changes, "
                f"the policies match {delta.count}"
            )
        families[query.family] = objects
    high = max((m for m in (stored.high_water, mark) if m is not None), default=None)
    new = Stored(stored.url, query_hash, high, stored.since_full + 1, families)
    # Only full fetches write the file (rewriting 100,000 objects costs seconds): it stays a
    # consistent older snapshot, from whose mark a restarted process reads the changes.
    _memory[path] = (_stamp(path), new)
    listed = stored.listed.after(replaced, arrived) if stored.listed is not None else None
    if listed is not None and len(listed.objects) == new.size:
        snapshot = SourceSnapshot(
            objects=tuple(listed.objects), snapshot_time=now, query_hash=query_hash
        )
    else:  # listed in full: the first pass since a full fetch, or a standard id shared
        order = [q.family for q in queries]
        snapshot = snapshot_of(new.ordered(order), (), now=now, query_hash=query_hash)
        listed = Listed.of(snapshot.objects, new.size)
    new.listed = listed
    return snapshot, FetchReport("incremental", changed=changed, removed=removed, read=read)
