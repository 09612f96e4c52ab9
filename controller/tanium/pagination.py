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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from controller.tanium.errors import InconsistentListingError, ProtocolError, RejectedError
from controller.tanium.transport import Reply

log = logging.getLogger("controller.tanium")

T = TypeVar("T")
Fetch = Callable[[int, int], Awaitable[Reply]]
"""Request one page: (offset, limit) → reply."""

MAX_PAGES = 100_000


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


class _Collected:
    def __init__(self, what: str) -> None:
        self.what = what
        self.items: dict[Any, Any] = {}
        self.duplicates = 0

    def add(self, reply: Reply, offset: int) -> tuple[list[Any], int]:
        """Add a page; return its items and how many were new."""
        page = reply.data
        if page is None:
            page = []
        if not isinstance(page, list):
            raise ProtocolError(f"{self.what}: expected a list page, got {type(page).__name__}")
        new = 0
        for item in page:
            key = item.get("id") if isinstance(item, dict) else None
            if key is None:
                raise ProtocolError(
                    f"{self.what}: an item at offset {offset} has no id", body=repr(item)[:200]
                )
            if key in self.items:
                self.duplicates += 1
            else:
                self.items[key] = item
                new += 1
        return page, new

    def inconsistent(self, detail: str) -> InconsistentListingError:
        return InconsistentListingError(
            f"{self.what}: inconsistent listing ({detail}); read again (the inventory probably "
            "changed during the read)"
        )


FALLBACK_PAGE_SIZES = (100, 50)
"""Tried, in order, when the server refuses the configured `limit` with a 400 (the maximum
page size of Tanium's lists is not documented; the alerts list caps at 500, another may not)."""


async def _first_page(fetch: Fetch, page_size: int) -> tuple[Any, int]:
    sizes = [page_size, *(s for s in FALLBACK_PAGE_SIZES if s < page_size)]
    for size in sizes:
        try:
            return await fetch(0, size), size
        except RejectedError as exc:
            if size == sizes[-1] or "limit" not in str(exc).lower():
                raise
            log.warning("page size %d refused (%s); trying smaller pages", size, exc.reason)
    raise AssertionError("unreachable")


async def fetch_all(fetch: Fetch, *, what: str, page_size: int, window: int = 8) -> list[Any]:
    """All items of a listing (raw vendor dicts, unique by `id`, in server order)."""
    collected = _Collected(what)
    first, page_size = await _first_page(fetch, page_size)
    page, _ = collected.add(first, 0)
    total = first.total_count()
    if total is not None:
        await _by_count(fetch, collected, total, len(page), page_size)
    elif page:
        await _walk(fetch, collected, len(page), page_size, window)
    return list(collected.items.values())


async def _by_count(
    fetch: Fetch, collected: _Collected, total: int, served: int, page_size: int
) -> None:
    if served < total:
        if served == 0:
            raise collected.inconsistent(f"the count is {total} but the first page is empty")
        offsets = range(served, total, served)
        if len(offsets) > MAX_PAGES:
            raise collected.inconsistent(f"{total} items in pages of {served} is too many pages")
        replies = await gather_all(fetch(offset, min(served, page_size)) for offset in offsets)
        for offset, reply in zip(offsets, replies, strict=True):
            if reply.total_count() not in (None, total):
                raise collected.inconsistent(
                    f"the count moved from {total} to {reply.total_count()} during the read"
                )
            collected.add(reply, offset)
    if len(collected.items) != total:
        raise collected.inconsistent(
            f"the count is {total} but {len(collected.items)} distinct items came back "
            f"({collected.duplicates} duplicates)"
        )


async def _walk(
    fetch: Fetch, collected: _Collected, served: int, page_size: int, window: int
) -> None:
    offset = served
    if served < page_size:  # the end, or a server clamping `limit`: probe once
        reply = await fetch(offset, page_size)
        page, new = collected.add(reply, offset)
        if not page or new == 0 or len(page) < served:
            _check_new(collected, page, new, offset)
            return
        _check_new(collected, page, new, offset)
        offset += len(page)
    for _ in range(MAX_PAGES):
        offsets = [offset + i * served for i in range(window)]
        replies = await gather_all(fetch(o, served) for o in offsets)
        for this_offset, reply in zip(offsets, replies, strict=True):
            page, new = collected.add(reply, this_offset)
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
