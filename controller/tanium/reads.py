"""Reads: the actual state (managed source's intel, all labels, the custom blocklist) and the
single look-ups the apply executor needs. Nothing here changes Tanium."""

from __future__ import annotations

import asyncio
import functools
import logging
import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from controller.collector import paused
from controller.core.model import ActualBlocklist, ActualIntel, ActualLabel, ActualState, TaniumId
from controller.core.timestamps import parse_time
from controller.render.marker import may_be_ours
from controller.tanium.errors import AuthError, NotFoundError, RejectedError, TaniumError
from controller.tanium.mapping import (
    DeployStatus,
    Source,
    blocklist_list,
    deploy_status,
    intel_list,
    intel_one,
    label_list,
    source_list,
    source_one,
)
from controller.tanium.pagination import PageMemo, fetch_all, gather_all
from controller.tanium.transport import Reply, Reuse, Transport

Mapping = Callable[..., list[Any]]
"""A page's vendor dicts → values, called as `mapping(page, where=path)` (`intel_list`)."""

TR = "/plugin/products/threat-response/api/v1"
REP = "/plugin/products/reputation/v3"
GROUPS = "/api/v2/groups/by-name"

log = logging.getLogger("controller.tanium")

_BY_ID = operator.attrgetter("id")
"""The sort key of listings (100,000 documents: no Python call per item)."""


class TaniumReads:
    """Read operations; mixed into `TaniumClient`, which sets these attributes."""

    _t: Transport
    page_size: int
    source_filter: bool
    intels_path: str
    """The intel collection, `TR/intels/` until the server says it wants no slash."""
    """Send `sourceId=` when listing intel (the result is filtered client-side regardless)."""

    # ------------------------------------------------------------------ the actual state

    async def read_state(
        self,
        source_name: str,
        adopt_sources: Sequence[str] = (),
        *,
        pages: PageMemo | None = None,
    ) -> ActualState:
        """Everything the diff needs, read concurrently; never partial (raises instead).

        The source is looked up by exact name and never created here: when it is absent the
        state has `source_id=None` and no intel. `pages`: the previous read's pages, to reuse
        those that come back unchanged (`PageMemo`; `run` keeps one across passes).
        """
        if pages is not None:
            pages.begin()

        async def managed_intel() -> tuple[TaniumId | None, tuple[ActualIntel, ...]]:
            source_id = await self.find_source(source_name)
            if source_id is None:
                return None, ()
            return source_id, await self.list_intel(source_id, pages=pages)

        async def last_deploy() -> tuple[bool, datetime | None]:
            try:
                status = await self.deploy_status()
            except (AuthError, NotFoundError, RejectedError) as exc:
                log.warning("intel/status unreadable (%s): pending deploys not detected", exc)
                return False, None
            return True, parse_time(status.created_at)

        async def blocklist_or_why() -> tuple[tuple[ActualBlocklist, ...], str | None]:
            try:
                return await self.list_blocklist(pages=pages), None
            except TaniumError as exc:
                if exc.fatal:
                    raise
                log.warning("the Reputation list is unreadable (%s): blocklist half skipped", exc)
                return (), str(exc)

        with paused():  # see `controller.collector`
            intel = asyncio.ensure_future(managed_intel())
            adoptable = asyncio.ensure_future(self.adoptable_intel(adopt_sources, source_name))
            labels = asyncio.ensure_future(self.list_labels(pages=pages))
            blocklist = asyncio.ensure_future(blocklist_or_why())
            deployed = asyncio.ensure_future(last_deploy())
            await gather_all([intel, labels, blocklist, deployed, adoptable])
        source_id, docs = intel.result()
        known, last = deployed.result()
        entries, unreadable = blocklist.result()
        return ActualState(
            source_id=source_id,
            source_name=source_name,
            intel=docs,
            labels=labels.result(),
            blocklist=entries,
            blocklist_error=unreadable,
            adoptable=adoptable.result(),
            deploy_known=known,
            last_deploy_at=last,
        )

    async def list_intel(
        self, source_id: TaniumId, *, pages: PageMemo | None = None
    ) -> tuple[ActualIntel, ...]:
        """All intel documents of one source, by id."""
        params: dict[str, str | int] = {"sourceId": source_id} if self.source_filter else {}
        docs = await self._intel_listing(params, f"intel of source {source_id}", pages)
        return await self._described(self._of_source(docs, source_id, self.intels_path))

    async def _described(self, docs: tuple[ActualIntel, ...]) -> tuple[ActualIntel, ...]:
        """The listing with every description our marker may be in. A server whose list items
        carry no `description` (one public sample) would make every owned document look
        foreign: those that may be ours (`may_be_ours`) are fetched one by one instead."""
        missing = [d.id for d in docs if not d.description and may_be_ours(d.intrinsic_id)]
        if not missing:
            return docs
        log.info("%d listed documents carry no description: fetching them", len(missing))
        fetched = {d.id: d for d in await gather_all([self.get_intel(i) for i in missing])}
        return tuple(fetched.get(d.id, d) for d in docs)

    async def _intel_listing(
        self, params: dict[str, str | int], what: str, pages: PageMemo | None = None
    ) -> list[ActualIntel]:
        """`GET TR/intels/` as public clients call it (trailing slash); a server answering 404
        to that form is asked once without the slash, and the working form is kept for every
        later call of this client (deletes included)."""
        try:
            return await self._all(self.intels_path, params, what, convert=intel_list, pages=pages)
        except NotFoundError:
            other = (
                self.intels_path.rstrip("/")
                if self.intels_path.endswith("/")
                else f"{self.intels_path}/"
            )
            docs = await self._all(other, params, what, convert=intel_list, pages=pages)
            log.info("Tanium serves the intel list as %s", other)
            self.intels_path = other
            return docs

    async def adoptable_intel(self, names: Sequence[str], managed: str) -> tuple[ActualIntel, ...]:
        """Every document, with its content, of the sources named `names` (never the managed
        one): what `Settings.adopt.fromSources` may migrate."""
        wanted = set(names) - {managed}
        if not wanted:
            return ()
        ids = sorted(s.id for s in await self.list_sources() if s.name in wanted)
        listed = [d for i in ids for d in await self.list_intel(i)]
        full = await gather_all([self.get_intel(d.id) for d in listed])
        return tuple(sorted(full, key=lambda d: d.id))

    async def list_labels(self, *, pages: PageMemo | None = None) -> tuple[ActualLabel, ...]:
        """All labels (`noLimit=true`, paginated anyway if the server ignores it)."""
        raw = await self._all(f"{TR}/labels", {"noLimit": "true"}, "labels", pages=pages)
        labels = label_list(raw, where=f"{TR}/labels")
        return tuple(sorted(labels, key=lambda label: label.id))

    async def list_blocklist(self, *, pages: PageMemo | None = None) -> tuple[ActualBlocklist, ...]:
        """The whole Reputation custom list (blocklist and allowlist entries), by id."""
        path = f"{REP}/reputations/custom"
        entries: list[ActualBlocklist] = await self._all(
            path, {}, "reputation", convert=blocklist_list, pages=pages
        )
        return tuple(sorted(entries, key=_BY_ID))

    # ------------------------------------------------------------------ look-ups

    async def list_sources(self) -> list[Source]:
        path = f"{TR}/sources"
        try:
            reply = await self._t.request("GET", path)
        except NotFoundError as exc:  # the first call of a pass: the base URL is wrong
            wrong = TaniumError(
                f"TANIUM_URL={self._t.base_url} looks wrong: {path} is not there (404). "
                "Expected the base URL of the Tanium server, e.g. https://tanium.example.com "
                "(without /plugin/... or /api/...)",
                method="GET",
                path=path,
                status=404,
            )
            wrong.fatal = True
            raise wrong from exc
        raw = reply.data
        total = reply.total_count()
        if total is not None and isinstance(raw, list) and total > len(raw):
            raw = await self._all(path, {}, "sources")
        return source_list(raw, where=path)

    async def find_source(self, name: str) -> TaniumId | None:
        """The id of the source named exactly `name`; the oldest when several share it."""
        matches = sorted(s.id for s in await self.list_sources() if s.name == name)
        if len(matches) > 1:
            log.warning(
                "%d intel sources are named %r; using the oldest, id %d",
                len(matches),
                name,
                matches[0],
            )
        return TaniumId(matches[0]) if matches else None

    async def get_intel(self, intel_id: TaniumId) -> ActualIntel:
        """One document; `NotFoundError` when it does not exist."""
        path = f"{TR}/intels/{intel_id}"
        reply = await self._t.request("GET", path)
        return intel_one(reply.data, where=path)

    async def find_intel_by_name(self, source_id: TaniumId, name: str) -> tuple[ActualIntel, ...]:
        """Documents of the source whose name is exactly `name` (server filter + local check)."""
        params: dict[str, str | int] = {"name": name}
        if self.source_filter:
            params["sourceId"] = source_id
        docs = await self._intel_listing(params, f"intel named {name!r}")
        mine = self._of_source(docs, source_id, self.intels_path)
        return tuple(d for d in mine if d.name == name)

    async def find_intel_by_intrinsic_id(
        self, source_id: TaniumId, intrinsic_id: str, *, name: str | None = None
    ) -> ActualIntel | None:
        """The source's document with this intrinsicId. With `name`, only documents of that name
        are listed (one cheap call); without, the whole source is."""
        if name is not None:
            docs = await self.find_intel_by_name(source_id, name)
        else:
            docs = await self.list_intel(source_id)
        return next((d for d in docs if d.intrinsic_id == intrinsic_id), None)

    async def intel_labels(self, intel_id: TaniumId) -> tuple[ActualLabel, ...]:
        path = f"{TR}/intels/{intel_id}/labels"
        reply = await self._t.request("GET", path)
        return tuple(label_list(reply.data or [], where=path))

    async def find_label(self, name: str) -> ActualLabel | None:
        """The label named `name`, compared case-insensitively (as Tanium does)."""
        wanted = name.casefold()
        return next((la for la in await self.list_labels() if la.name.casefold() == wanted), None)

    async def deploy_status(self) -> DeployStatus:
        path = f"{TR}/intel/status"
        reply = await self._t.request("GET", path)
        return deploy_status(reply.data, where=path)

    async def group_id_by_name(self, name: str) -> TaniumId | None:
        """A computer group's id (`All Computers` is usually 1); None when unknown."""
        path = f"{GROUPS}/{quote(name, safe='')}"
        reply = await self._t.request("GET", path, ok_statuses=frozenset({404}))
        if not reply.data:
            return None
        return source_one(reply.data, where=path).id

    async def search_blocklist(self, hash_value: str) -> tuple[ActualBlocklist, ...]:
        """Custom-list entries holding this hash (any type, case-insensitive)."""
        path = f"{REP}/reputations/custom"
        wanted = hash_value.strip().lower()
        entries: list[ActualBlocklist] = await self._all(
            path, {"search": wanted}, f"reputation search {wanted}", convert=blocklist_list
        )
        return tuple(e for e in entries if wanted in (e.md5, e.sha1, e.sha256))

    # ------------------------------------------------------------------ helpers

    async def _all(
        self,
        path: str,
        params: dict[str, str | int],
        what: str,
        *,
        convert: Mapping | None = None,
        pages: PageMemo | None = None,
    ) -> list[Any]:
        """Every item of a listing: vendor dicts, or what `convert(page, where=path)` makes of
        each page as it arrives (see `fetch_all`); `pages`: see `PageMemo`."""

        async def fetch_page(offset: int, limit: int, reuse: Reuse | None = None) -> Reply:
            page = {**params, "limit": limit, "offset": offset}
            return await self._t.request("GET", path, params=page, reuse=reuse)

        each = None if convert is None else functools.partial(convert, where=path)
        scope = (path, tuple(sorted(params.items())), convert is None)
        return await fetch_all(
            fetch_page,
            what=what,
            page_size=self.page_size,
            convert=each,
            memo=None if pages is None else (pages, scope),
        )

    def _of_source(
        self, docs: list[ActualIntel], source_id: TaniumId, where: str
    ) -> tuple[ActualIntel, ...]:
        mine = [d for d in docs if d.source_id == source_id]
        if len(mine) < len(docs):
            log.debug(
                "%s: %d documents of other sources filtered out locally",
                where,
                len(docs) - len(mine),
            )
        return tuple(sorted(mine, key=_BY_ID))
