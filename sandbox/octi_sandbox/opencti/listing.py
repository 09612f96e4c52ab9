"""Connections: ordering, keyset cursors and OpenCTI's pagination quirks (§5, §12).

- no `orderBy` → `standard_id` asc; otherwise the field, then `standard_id` as tiebreaker (the
  internal id breaks exact duplicates); `search` alone → relevance (`_score`) desc;
- cursor = base64 of the JSON array of the node's sort values; `after` continues strictly
  after that tuple (keyset), so an object updated mid-scan moves exactly as in Elasticsearch;
- `first` defaults to 500 and is cut to 5,000; `hasNextPage = len(edges) == first` with the
  *requested* `first`: above 5,000 a listing stops silently, and an exactly full last page
  costs an extra empty round trip, as on a real platform;
- `globalCount` = all matches; `startCursor`/`endCursor` = first/last edge cursor or "";
  `hasPreviousPage` = an `after` was given.

Filtered and sorted results are cached per (query shape, store version), so paging through
100,000 objects sorts them once; a filter that requires a date range (`updated_at >= mark`, a
range of creation dates) is first narrowed by comparing that field alone (`prefilter`), as
Elasticsearch answers it from an index.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from octi_sandbox.opencti.errors import functional
from octi_sandbox.opencti.filtering import (
    check,
    compile_group,
    prefilter,
    search_score,
    uses_now,
)
from octi_sandbox.opencti.records import Record

DEFAULT_FIRST = 500
MAX_FIRST = 5000
_CACHE_SIZE = 16
_HEAD_MAX = 100
"""A first page of at most this many is selected, not sorted (and not cached)."""


def _sortable(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return _sortable(value[0]) if value else None
    if isinstance(value, dict):
        return value.get("definition") or value.get("name") or value.get("value")
    return value


def order_value(record: Record, order_by: str, scores: dict[str, int]) -> Any:
    if order_by == "_score":
        return scores.get(record["id"], 0)
    if order_by == "creator":
        return None
    return _sortable(record.get(order_by))


@dataclass
class Ordered:
    items: list[Record]
    keys: list[tuple[Any, ...]]
    values: list[list[Any]]
    desc: bool
    total: int = -1
    """All matches (`globalCount`): `len(items)` unless only the head was ordered."""

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.items)


def _key(values: list[Any], has_field: bool, desc: bool) -> tuple[Any, ...]:
    if not has_field:
        return tuple(values)
    value = values[0]
    flag = (0 if desc else 1) if value is None else (1 if desc else 0)  # missing sorts last
    return (flag, 0 if value is None else value, *values[1:])


def encode_cursor(values: list[Any]) -> str:
    return base64.b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.b64decode(cursor.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise functional(f"Invalid cursor: {cursor[:80]!r}") from None
    if not isinstance(values, list):
        raise functional(f"Invalid cursor: {cursor[:80]!r}")
    return values


class Lister:
    def __init__(self) -> None:
        self._cache: OrderedDict[str, Ordered] = OrderedDict()

    def ordered(
        self,
        candidates: Callable[[], Iterable[Record]],
        *,
        shape: str,
        version: int,
        now: datetime,
        filters: dict[str, Any] | None,
        search: str | None,
        order_by: str | None,
        order_mode: str | None,
        head: int | None = None,
    ) -> Ordered:
        """The matches in listing order. `head`: only the first page of that many will be
        read (no `after`); a small head of a large listing whose order is not cached is
        selected rather than sorted (`first: 1, orderBy: updated_at` over 500,000 objects,
        a count's `first: 1`), and that partial order is not cached."""
        if filters is not None:
            check(filters)
        key = json.dumps([shape, version, filters, search, order_by, order_mode], default=str)
        if filters is not None and uses_now(filters):
            key += now.isoformat()
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        match = compile_group(filters, now)
        narrow = prefilter(filters, now)
        pool = candidates() if narrow is None else filter(narrow, candidates())
        items = [r for r in pool if match(r)]
        scores: dict[str, int] = {}
        if search:
            scores = {r["id"]: search_score(r, search) for r in items}
            items = [r for r in items if scores[r["id"]] > 0]
            order_by = order_by or "_score"
            order_mode = order_mode if order_by != "_score" or order_mode else "desc"
        desc = order_mode == "desc"
        has_field = order_by is not None

        def values(r: Record) -> list[Any]:
            if order_by:
                return [order_value(r, order_by, scores), r["standard_id"], r["id"]]
            return [r["standard_id"], r["id"]]

        partial = head is not None and 0 <= head <= _HEAD_MAX and head < len(items) // 2
        try:
            if partial:  # the `head` first in listing order (desc: the last, kept ascending)
                pick = heapq.nlargest if desc else heapq.nsmallest
                chosen = pick(head or 0, items, key=lambda r: _key(values(r), has_field, desc))
                rows = [(values(r), r) for r in (reversed(chosen) if desc else chosen)]
            else:
                rows = [(values(r), r) for r in items]
                rows.sort(key=lambda row: _key(row[0], has_field, desc))
        except TypeError:
            raise functional(f"Cannot order by {order_by!r}: mixed value types") from None
        result = Ordered(
            items=[r for _, r in rows],
            values=[v for v, _ in rows],
            keys=[_key(v, has_field, desc) for v, _ in rows],
            desc=desc,
            total=len(items),
        )
        if partial:
            return result
        self._cache[key] = result
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def clear(self) -> None:
        self._cache.clear()


def connection(
    ordered: Ordered, *, first: int | None, after: str | None, has_field: bool
) -> dict[str, Any]:
    requested = DEFAULT_FIRST if first is None else first
    if requested < 0:
        raise functional("first must be a positive number")
    size = min(requested, MAX_FIRST)
    if after:
        cursor_key = _key(decode_cursor(after), has_field, ordered.desc)
        try:
            if ordered.desc:
                end = bisect_left(ordered.keys, cursor_key)
                indexes = list(range(end - 1, max(-1, end - 1 - size), -1))
            else:
                start = bisect_right(ordered.keys, cursor_key)
                indexes = list(range(start, min(len(ordered.items), start + size)))
        except TypeError:
            raise functional(f"Invalid cursor for this ordering: {after[:80]!r}") from None
    elif ordered.desc:
        indexes = list(range(len(ordered.items) - 1, max(-1, len(ordered.items) - 1 - size), -1))
    else:
        indexes = list(range(min(len(ordered.items), size)))
    edges = [
        {"cursor": encode_cursor(ordered.values[i]), "node": ordered.items[i]} for i in indexes
    ]
    return {
        "edges": edges,
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else "",
            "endCursor": edges[-1]["cursor"] if edges else "",
            "hasNextPage": len(edges) == requested,
            "hasPreviousPage": after is not None,
            "globalCount": ordered.total,
        },
    }
