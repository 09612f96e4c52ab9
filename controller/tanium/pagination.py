"""Complete listings from limit/offset pages, fetched concurrently where the API allows.

With `meta` on the first page (its `filteredCount`, else `totalCount`, is the count): the rest
of the pages are requested at once (the transport's semaphore bounds how many are in flight),
with the page size the server actually served (it may clamp `limit`). Every page must report
the same count, and the number of distinct ids must equal it.

Without `meta`: pages are requested in windows of `window` consecutive offsets until a page
comes back shorter than the served page size. A short first page is probed once (the server
may clamp rather than be done). A page holding only ids already seen ends the walk (the server
ignores `offset`, e.g. labels with `noLimit`); a page mixing seen and new ids means the listing
shifted under us.

Anything that does not add up raises `InconsistentListingError`: a partial inventory would make
the controller create duplicates.

`convert` (optional) maps each page's items as soon as the page arrives (vendor dicts → the
pipeline's values): a page's decoded JSON dies young instead of living, with 100,000 others,
until the last page is in, and the cyclic collector never sees it grow old.

`memo` (optional, `PageMemo`): a page whose bytes are those the same request got in the
previous read is neither decoded, checked nor mapped again; what was made of it then is used.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, Protocol, TypeVar

from controller.tanium.errors import InconsistentListingError, ProtocolError, RejectedError
from controller.tanium.transport import Reply, Reuse

log = logging.getLogger("controller.tanium")

T = TypeVar("T")


class Fetch(Protocol):
    """Request one page: (offset, limit) → reply; `reuse` goes to the transport (`Reuse`)."""

    def __call__(self, offset: int, limit: int, reuse: Reuse | None = None) -> Awaitable[Reply]:
        """Send the request."""
        ...


Convert = Callable[[list[Any]], list[Any]]
"""A page's items (dicts, each with an `id`) → the values to collect (each with an `id`)."""
Page = tuple[Reply, list[Any]]
"""A reply and its items (checked, converted when asked)."""
PageFetch = Callable[[int, int], Awaitable[Page]]

MAX_PAGES = 100_000


class PageMemo:
    """Each listing's pages from the previous read, by request, with the sha256 of their bytes.

    A no-change pass of `run` reads the same 125,000 objects (at 100,000 indicators) as the
    previous one: decoding and mapping them again was most of the Tanium read's client CPU.
    A page whose bytes come back identical is not decoded, checked or mapped: the values made
    of those bytes last time are used — the same values, since the mapping depends on nothing
    else (the listing's path, kept in the key). A page that differs in one byte is read as
    usual. Listings go by `limit`/`offset`, so a deletion shifts the pages after it: those are
    read as usual too (exact, only slower). Kept across passes by `run`
    (`controller.reconcile.PassMemory`); `plan` and `apply` read without one.

    The mapped values are kept (the previous inventory, shared with the next one: no copy);
    the bytes are not, only their digest. Pages of a listing that a complete read no longer
    requested are dropped."""

    def __init__(self) -> None:
        self._pages: dict[tuple[Hashable, int, int], tuple[bytes, Reply]] = {}
        self.reused = 0
        """Pages of the last read taken from the memo (for logs, benchmarks and tests)."""
        self.decoded = 0
        """Pages of the last read decoded and mapped."""

    def begin(self) -> None:
        """A new read: the counts start again."""
        self.reused = self.decoded = 0

    def probe(self, scope: Hashable, offset: int, limit: int) -> _Probe:
        return _Probe(self._pages.get((scope, offset, limit)))

    def keep(self, scope: Hashable, offset: int, limit: int, probe: _Probe, made: Reply) -> None:
        """What a page whose bytes `probe` saw was made into (`made.data`: its values)."""
        if probe.digest is not None:
            self._pages[scope, offset, limit] = (probe.digest, made)

    def only(self, scope: Hashable, requests: set[tuple[int, int]]) -> None:
        """After a complete read of `scope`: forget its pages it did not request."""
        for key in [k for k in self._pages if k[0] == scope and (k[1], k[2]) not in requests]:
            del self._pages[key]


class _Probe:
    """The transport's `Reuse` for one request: the page's digest, and the earlier reply
    made of the same bytes, if any."""

    __slots__ = ("digest", "known")

    def __init__(self, known: tuple[bytes, Reply] | None) -> None:
        self.known = known
        self.digest: bytes | None = None

    def __call__(self, content: bytes) -> Reply | None:
        self.digest = hashlib.sha256(content).digest()
        if self.known is not None and self.known[0] == self.digest:
            return self.known[1]
        return None


async def gather_all(coros: Iterable[Awaitable[T]]) -> list[T]:
    """Run concurrently; on the first failure cancel the others and raise that failure."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    if not tasks:
        return []
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            if task in done and not task.cancelled():
                error = task.exception()
                if error is not None:
                    raise error
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


_DICT = {dict}
_ID = itertools.repeat("id")
"""`dict.get(item, "id")` for every item (`map` stops at the shorter iterable)."""


class _Collected:
    def __init__(self, what: str) -> None:
        self.what = what
        self.items: dict[Any, Any] = {}
        self.duplicates = 0

    def checked(self, reply: Reply, offset: int) -> list[Any]:
        """A page's items: a list of objects, each with an id."""
        page = reply.data
        if page is None:
            return []
        if not isinstance(page, list):
            raise ProtocolError(f"{self.what}: expected a list page, got {type(page).__name__}")
        if set(map(type, page)) <= _DICT and None not in map(dict.get, page, _ID):
            return page  # the common page, checked in C (`map`); the loop names the culprit
        for item in page:
            if not isinstance(item, dict) or item.get("id") is None:
                raise ProtocolError(
                    f"{self.what}: an item at offset {offset} has no id", body=repr(item)[:200]
                )
        return page

    def add(self, page: list[Any], converted: bool) -> int:
        """Add a page's items (checked, maybe converted); return how many were new."""
        items = self.items
        new = 0
        for item in page:
            key = item.id if converted else item["id"]
            if key in items:
                self.duplicates += 1
            else:
                items[key] = item
                new += 1
        return new

    def inconsistent(self, detail: str) -> InconsistentListingError:
        return InconsistentListingError(
            f"{self.what}: inconsistent listing ({detail}); read again (the inventory probably "
            "changed during the read)"
        )


FALLBACK_PAGE_SIZES = (100, 50)
"""Tried, in order, when the server refuses the configured `limit` with a 400 (the maximum
page size of Tanium's lists is not documented; the alerts list caps at 500, another may not)."""


async def _first_page(fetch: PageFetch, page_size: int) -> tuple[Page, int]:
    sizes = [page_size, *(s for s in FALLBACK_PAGE_SIZES if s < page_size)]
    for size in sizes:
        try:
            return await fetch(0, size), size
        except RejectedError as exc:
            if size == sizes[-1] or "limit" not in str(exc).lower():
                raise
            log.warning("page size %d refused (%s); trying smaller pages", size, exc.reason)
    raise AssertionError("unreachable")


async def fetch_all(
    fetch: Fetch,
    *,
    what: str,
    page_size: int,
    window: int = 8,
    convert: Convert | None = None,
    memo: tuple[PageMemo, Hashable] | None = None,
) -> list[Any]:
    """All items of a listing, unique by `id`, in server order: raw vendor dicts, or what
    `convert` made of each page. `memo`: a `PageMemo` and the listing's key in it."""
    collected = _Collected(what)
    converted = convert is not None
    requested: set[tuple[int, int]] = set()

    async def fetch_page(offset: int, limit: int) -> Page:
        if memo is None:
            reply = await fetch(offset, limit)
            items = collected.checked(reply, offset)
            return reply, convert(items) if convert is not None and items else items
        pages, scope = memo
        requested.add((offset, limit))
        probe = pages.probe(scope, offset, limit)
        reply = await fetch(offset, limit, probe)
        if reply.reused:
            pages.reused += 1
            return reply, reply.data
        pages.decoded += 1
        items = collected.checked(reply, offset)
        made = convert(items) if convert is not None and items else items
        pages.keep(scope, offset, limit, probe, Reply(made, reply.meta, reply.status, reused=True))
        return reply, made

    (first, page), page_size = await _first_page(fetch_page, page_size)
    collected.add(page, converted)
    total = first.total_count()
    if total is not None:
        await _by_count(fetch_page, collected, total, len(page), page_size, converted)
    elif page:
        await _walk(fetch_page, collected, len(page), page_size, window, converted)
    if memo is not None:
        memo[0].only(memo[1], requested)
    return list(collected.items.values())


async def _by_count(
    fetch: PageFetch,
    collected: _Collected,
    total: int,
    served: int,
    page_size: int,
    converted: bool,
) -> None:
    if served < total:
        if served == 0:
            raise collected.inconsistent(f"the count is {total} but the first page is empty")
        offsets = range(served, total, served)
        if len(offsets) > MAX_PAGES:
            raise collected.inconsistent(f"{total} items in pages of {served} is too many pages")
        pages = await gather_all(fetch(offset, min(served, page_size)) for offset in offsets)
        for reply, page in pages:
            if reply.total_count() not in (None, total):
                raise collected.inconsistent(
                    f"the count moved from {total} to {reply.total_count()} during the read"
                )
            collected.add(page, converted)
    if len(collected.items) != total:
        raise collected.inconsistent(
            f"the count is {total} but {len(collected.items)} distinct items came back "
            f"({collected.duplicates} duplicates)"
        )


async def _walk(
    fetch: PageFetch,
    collected: _Collected,
    served: int,
    page_size: int,
    window: int,
    converted: bool,
) -> None:
    offset = served
    if served < page_size:  # the end, or a server clamping `limit`: probe once
        _reply, page = await fetch(offset, page_size)
        new = collected.add(page, converted)
        if not page or new == 0 or len(page) < served:
            _check_new(collected, page, new, offset)
            return
        _check_new(collected, page, new, offset)
        offset += len(page)
    for _ in range(MAX_PAGES):
        offsets = [offset + i * served for i in range(window)]
        pages = await gather_all(fetch(o, served) for o in offsets)
        for this_offset, (_reply, page) in zip(offsets, pages, strict=True):
            new = collected.add(page, converted)
            _check_new(collected, page, new, this_offset)
            if new == 0 or len(page) < served:
                return
            offset = this_offset + served
    raise collected.inconsistent(f"more than {MAX_PAGES} pages")


def _check_new(collected: _Collected, page: list[Any], new: int, offset: int) -> None:
    if 0 < new < len(page):
        raise collected.inconsistent(
            f"the page at offset {offset} repeats {len(page) - new} items already listed"
        )
