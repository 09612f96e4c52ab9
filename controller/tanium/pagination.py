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
Convert = Callable[[list[Any]], list[Any]]
"""A page's items (dicts, each with an `id`) → the values to collect (each with an `id`)."""
Page = tuple[Reply, list[Any]]
"""A reply and its items (checked, converted when asked)."""
PageFetch = Callable[[int, int], Awaitable[Page]]

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

    def checked(self, reply: Reply, offset: int) -> list[Any]:
        """A page's items: a list of objects, each with an id."""
        page = reply.data
        if page is None:
            return []
        if not isinstance(page, list):
            raise ProtocolError(f"{self.what}: expected a list page, got {type(page).__name__}")
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
) -> list[Any]:
    """All items of a listing, unique by `id`, in server order: raw vendor dicts, or what
    `convert` made of each page."""
    collected = _Collected(what)
    converted = convert is not None

    async def fetch_page(offset: int, limit: int) -> Page:
        reply = await fetch(offset, limit)
        items = collected.checked(reply, offset)
        return reply, convert(items) if convert is not None and items else items

    (first, page), page_size = await _first_page(fetch_page, page_size)
    collected.add(page, converted)
    total = first.total_count()
    if total is not None:
        await _by_count(fetch_page, collected, total, len(page), page_size, converted)
    elif page:
        await _walk(fetch_page, collected, len(page), page_size, window, converted)
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
