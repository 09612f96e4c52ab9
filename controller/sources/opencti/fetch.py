"""`--source opencti`: the policies' objects, read page by page, with completeness tracked.

Fail closed: the snapshot is marked incomplete (and the plan then deletes nothing) when a page
fails for good, any GraphQL error occurs, a node cannot be read, the cursor stalls, or the
number of objects read disagrees with the server's `globalCount` (or that count moved during
the scan). Auth errors and queries the server rejects as invalid are raised instead: no plan
can be made until a human acts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from controller.collector import collect_young, paused
from controller.core.model import SourceObject, SourceSnapshot
from controller.policy.located import PolicySet
from controller.policy.models import IntelPolicy, Select
from controller.retry import Timing
from controller.sources.opencti.client import GraphQLClient
from controller.sources.opencti.errors import (
    OpenCTIGraphQLError,
    OpenCTIProtocolError,
    OpenCTITransientError,
)
from controller.sources.opencti.filters import FamilyQuery, Marking, needs_markings, plan_queries
from controller.sources.opencti.mapping import indicator_from_node, observable_from_node
from controller.sources.opencti.queries import MARKINGS, Operation
from controller.sources.opencti.settings import MAX_PAGE_SIZE, OpenCTISettings

Progress = Callable[[str, int, int | None], None]
"""`progress(label, fetched, total)`: called once before a listing and after every page."""

PAGE_FAILURES = (OpenCTITransientError, OpenCTIProtocolError, OpenCTIGraphQLError)


def selects_of(policies: PolicySet) -> list[Select]:
    return [
        located.document.spec.select
        for located in policies.intel_policies
        if isinstance(located.document, IntelPolicy)
    ]


def _digest(sent: Sequence[tuple[Operation, dict[str, Any]]]) -> str:
    canonical = json.dumps(
        [{"operationName": op.name, "query": op.document, "variables": v} for op, v in sent],
        sort_keys=True,
        separators=(",", ":"),
    )
    return "opencti:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


class _Listing:
    """One paginated listing: hands each node to `consume` page by page, counts, and says
    why it is incomplete (if it is).

    Pipelined: the next page is requested as soon as this one's cursor is known, and this
    page's nodes are mapped while the server works on the next (the server's time per page
    is several times the client's, and the two no longer add up). Memory stays at two pages
    of raw JSON. The mapping yields to the event loop every `CHUNK` nodes, so the request
    in flight is actually written out (and other listings progress) meanwhile. Each page's
    cyclic garbage is collected once the page is mapped, the collector being paused."""

    CHUNK = 25

    def __init__(
        self, label: str, consume: Callable[[dict[str, Any]], None], progress: Progress | None
    ) -> None:
        self.label = label
        self.consume = consume
        self.progress = progress
        self.count = 0
        self.reasons: list[str] = []
        self.totals: list[int] = []

    def report(self, total: int | None) -> None:
        if self.progress is not None:
            self.progress(self.label, self.count, total)

    async def run(
        self,
        client: GraphQLClient,
        operation: Operation,
        variables: Callable[[str | None], dict[str, Any]],
    ) -> None:
        self.report(None)
        pending = asyncio.ensure_future(client.execute(operation, variables(None)))
        try:
            after: str | None = None
            page = 0
            while True:
                page += 1
                try:
                    data = await pending
                except PAGE_FAILURES as exc:
                    self.reasons.append(f"{self.label}: page {page} failed: {exc}")
                    return
                conn = data.get(operation.root_field)
                if not isinstance(conn, dict):
                    self.reasons.append(f"{self.label}: page {page}: the reply has no connection")
                    return
                info = conn.get("pageInfo")
                info = info if isinstance(info, dict) else {}
                total = info.get("globalCount")
                if isinstance(total, int):
                    self.totals.append(total)
                more = bool(info.get("hasNextPage"))
                cursor = info.get("endCursor")
                advances = isinstance(cursor, str) and bool(cursor) and cursor != after
                if more and advances:  # the next page is worked on while this one is mapped
                    pending = asyncio.ensure_future(client.execute(operation, variables(cursor)))
                await self._consume(conn.get("edges") or (), page)
                collect_young()  # this page's response and its body (`controller.collector`)
                self.report(total if isinstance(total, int) else None)
                if not more:
                    break
                if not advances:
                    self.reasons.append(f"{self.label}: page {page}: the cursor did not advance")
                    return
                after = cursor
        finally:
            await _abandon(pending)
        self._check_counts()

    async def _consume(self, edges: Iterable[Any], page: int) -> None:
        await asyncio.sleep(0)  # the next page's request sets off before this page is mapped
        for done, edge in enumerate(edges, 1):
            node = edge.get("node") if isinstance(edge, dict) else None
            self.count += 1
            if isinstance(node, dict):
                self.consume(node)
            else:
                self.reasons.append(f"{self.label}: page {page}: an edge without a node")
            if done % self.CHUNK == 0:
                await asyncio.sleep(0)  # and goes out (a request takes a few steps)

    def _check_counts(self) -> None:
        if not self.totals:
            self.reasons.append(f"{self.label}: the server sent no globalCount")
            return
        if len(set(self.totals)) > 1:
            self.reasons.append(
                f"{self.label}: globalCount moved during the scan ({self.totals[0]} → "
                f"{self.totals[-1]}): objects were created or deleted meanwhile; read again"
            )
        elif self.count != self.totals[-1]:
            self.reasons.append(
                f"{self.label}: read {self.count} objects but globalCount is "
                f"{self.totals[-1]} (a silently truncated page?)"
            )


async def fetch_markings(client: GraphQLClient, page_size: int) -> list[Marking] | None:
    """Every marking definition (id, definition); None when they cannot all be read."""
    found: list[Marking] = []

    def consume(node: dict[str, Any]) -> None:
        if node.get("id") and isinstance(node.get("definition"), str):
            found.append(Marking(str(node["id"]), node["definition"]))

    listing = _Listing("marking definitions", consume, None)
    await listing.run(client, MARKINGS, lambda after: {"first": page_size, "after": after})
    return None if listing.reasons else found


async def scan(
    client: GraphQLClient, query: FamilyQuery, page_size: int, progress: Progress | None
) -> tuple[list[SourceObject], list[str]]:
    mapper = indicator_from_node if query.family == "indicators" else observable_from_node
    objects: list[SourceObject] = []
    unreadable: list[str] = []

    def consume(node: dict[str, Any]) -> None:
        try:
            objects.append(mapper(node))
        except OpenCTIProtocolError as exc:
            unreadable.append(f"{query.family}: {exc.reason}")

    listing = _Listing(query.family, consume, progress)
    await listing.run(client, query.operation, lambda after: query.variables(page_size, after))
    return objects, unreadable + listing.reasons


async def plan_for(
    client: GraphQLClient, selects: Sequence[Select], *, now: datetime, page_size: int
) -> tuple[tuple[FamilyQuery, ...], str]:
    """The listings that cover the policies, and the query hash of the snapshot they make."""
    sent: list[tuple[Operation, dict[str, Any]]] = []
    markings = None
    if needs_markings(selects):
        # Without the ids the marking filters are left out: wider, never wrong.
        markings = await fetch_markings(client, page_size)
        sent.append((MARKINGS, {"first": page_size, "after": None}))
    queries = plan_queries(selects, now=now, markings=markings)
    sent.extend((q.operation, q.variables(page_size, None)) for q in queries)
    return queries, _digest(sent)


def snapshot_of(
    found: Iterable[SourceObject], reasons: Sequence[str], *, now: datetime, query_hash: str
) -> SourceSnapshot:
    """The snapshot of the objects listed (in listing order: a duplicate standard id keeps the
    first), sorted by standard id."""
    objects: dict[str, SourceObject] = {}
    for obj in found:
        objects.setdefault(obj.standard_id, obj)  # OpenCTI can hold duplicates: first wins
    return SourceSnapshot(
        objects=tuple(sorted(objects.values(), key=lambda o: o.standard_id)),
        complete=not reasons,
        incomplete_reasons=tuple(reasons),
        snapshot_time=now,
        query_hash=query_hash,
    )


async def fetch_snapshot(
    settings: OpenCTISettings,
    policies: PolicySet,
    *,
    now: datetime,
    page_size: int = 500,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timing: Timing | None = None,
) -> SourceSnapshot:
    """Read what the policies can select from OpenCTI; see the module doc for completeness.
    `transport` and `timing` are test hooks (see `GraphQLClient`). The cyclic collector is
    paused throughout (`controller.collector`): the listing allocates ~40 acyclic objects
    per node, and the collections they set off walking the growing snapshot cost as much CPU
    as the decoding and the mapping together."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    async with GraphQLClient(settings, transport=transport, timing=timing) as client:
        with paused():
            return await fetch_with(
                client, selects_of(policies), now=now, page_size=page_size, progress=progress
            )


async def fetch_with(
    client: GraphQLClient,
    selects: Sequence[Select],
    *,
    now: datetime,
    page_size: int,
    progress: Progress | None = None,
) -> SourceSnapshot:
    """`fetch_snapshot` on an open client."""
    queries, query_hash = await plan_for(client, selects, now=now, page_size=page_size)
    return await scan_all(
        client, queries, query_hash, now=now, page_size=page_size, progress=progress
    )


async def scan_all(
    client: GraphQLClient,
    queries: Sequence[FamilyQuery],
    query_hash: str,
    *,
    now: datetime,
    page_size: int,
    progress: Progress | None = None,
) -> SourceSnapshot:
    """The snapshot of planned listings (`plan_for`), read concurrently."""
    results = await gather([scan(client, q, page_size, progress) for q in queries])
    reasons = [why for _, reasons_ in results for why in reasons_]
    found = (obj for objects, _ in results for obj in objects)
    return snapshot_of(found, reasons, now=now, query_hash=query_hash)


T = TypeVar("T")


async def _abandon(request: asyncio.Future[Any]) -> None:
    """Cancel a page request nobody will read (the listing stopped or failed), and wait for
    it to end, so it neither outlives the client nor leaves an exception unretrieved."""
    if not request.done():
        request.cancel()
        await asyncio.wait([request])
    if not request.cancelled():
        request.exception()


async def gather(scans: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Run the listings concurrently; the first `OpenCTIError` (auth, bad query) is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(scan) for scan in scans]
    except BaseExceptionGroup as failed:
        first = failed.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        if isinstance(first, Exception):
            raise first from None
        raise
    return [task.result() for task in tasks]
