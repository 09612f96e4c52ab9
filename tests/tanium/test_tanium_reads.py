"""Reads: complete listings (concurrent pages, clamping, no meta), consistency checks, look-ups."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from tanium_fakes import REP, TR, intel_json, reply, run

from controller.core.model import TaniumId
from controller.tanium import InconsistentListingError, TaniumClient


class PagedServer:
    """Serves listings with limit/offset like Tanium, with switchable quirks."""

    def __init__(
        self,
        intel: list[dict[str, Any]] | None = None,
        *,
        meta: bool | str = True,
        clamp: int = 500,
        source_filter: bool = True,
        drop: int = 0,
        grow_after: int | None = None,
    ) -> None:
        self.intel = intel or []
        self.labels = [{"id": i, "name": f"label-{i}"} for i in range(1, 4)]
        self.reputation = [
            {"id": i, "list": "blacklist", "md5": None, "sha1": None, "sha256": f"{i:064x}",
             "notes": f"n{i}"}
            for i in range(1, 1201)
        ]  # fmt: skip
        self.sources = [{"id": 7, "name": "OpenCTI"}, {"id": 3, "name": "OpenCTI"},
                        {"id": 1, "name": "Manual"}]  # fmt: skip
        self.meta, self.clamp, self.source_filter = meta, clamp, source_filter
        self.drop, self.grow_after = drop, grow_after
        self.requests: list[httpx.Request] = []
        self.in_flight = self.max_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            return self.answer(request)
        finally:
            self.in_flight -= 1

    def answer(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path.rstrip("/"), request.url.params  # `intels/` as `intels`
        if path == f"{TR}/sources":
            return reply(self.sources)
        if path == f"{TR}/intels":
            items = self.intel
            if self.source_filter and "sourceId" in q:
                items = [d for d in items if d["sourceId"] == int(q["sourceId"])]
            if "name" in q:
                items = [d for d in items if q["name"].lower() in d["name"].lower()]
            return self.page(items, q, len(self.intel))
        if path == f"{TR}/labels":
            if q.get("noLimit") == "true":  # everything, offset ignored
                return reply(self.labels, meta=self.meta_of(len(self.labels), len(self.labels)))
            return self.page(self.labels, q, len(self.labels))
        if path == f"{REP}/reputations/custom":
            items = self.reputation
            if "search" in q:
                items = [e for e in items if q["search"] in str(e.values())]
            return self.page(items, q, len(self.reputation))
        return httpx.Response(404, json={"text": "not found"})

    def meta_of(self, everything: int, filtered: int) -> dict[str, int] | None:
        """Like the emulator: all items of the collection, and those matching the filters.
        `meta="total"` plays a server sending only `totalCount` (of the matching items)."""
        if self.meta == "total":
            return {"totalCount": filtered}
        return {"totalCount": everything, "filteredCount": filtered} if self.meta else None

    def page(
        self, items: list[dict[str, Any]], q: httpx.QueryParams, everything: int
    ) -> httpx.Response:
        filtered = len(items)
        if self.grow_after is not None and len(self.requests) > self.grow_after:
            filtered += 1  # someone added a document during the read
        limit = min(int(q.get("limit", 100)), self.clamp)
        offset = int(q.get("offset", 0))
        chunk = items[offset : offset + limit]
        if self.drop and offset > 0:
            chunk = chunk[: -self.drop]
        return reply(chunk, meta=self.meta_of(everything, filtered))


def docs(count: int, source_id: int = 3) -> list[dict[str, Any]]:
    return [intel_json(i, source_id) for i in range(1, count + 1)]


def read_intel(server: PagedServer, **options: Any) -> tuple[Any, ...]:
    async def scenario(client: TaniumClient) -> tuple[Any, ...]:
        return await client.list_intel(TaniumId(3))

    return run(server, scenario, **options)


def test_pages_after_the_first_are_fetched_concurrently_within_the_bound() -> None:
    server = PagedServer(docs(2345))
    intel = read_intel(server, page_size=100, max_in_flight=4)
    assert [d.id for d in intel] == list(range(1, 2346))
    assert len(server.requests) == 24
    assert 1 < server.max_in_flight <= 4


def test_a_server_clamping_the_page_size_is_detected_by_the_total() -> None:
    server = PagedServer(docs(1050), clamp=100)
    intel = read_intel(server, page_size=500)
    assert len(intel) == 1050
    assert len(server.requests) == 11
    assert {r.url.params["limit"] for r in server.requests[1:]} == {"100"}


def test_a_total_count_alone_is_used_when_there_is_no_filtered_count() -> None:
    server = PagedServer(docs(250) + docs(250, source_id=4), meta="total")
    for doc in server.intel[250:]:
        doc["id"] += 1000
    assert len(read_intel(server, page_size=100)) == 250
    assert len(server.requests) == 3


def test_without_meta_pages_are_walked_until_a_short_page() -> None:
    server = PagedServer(docs(1234), meta=False)
    intel = read_intel(server, page_size=100)
    assert len(intel) == 1234
    offsets = sorted(int(r.url.params["offset"]) for r in server.requests)
    assert offsets[:13] == list(range(0, 1300, 100))


def test_without_meta_a_clamping_server_is_detected_by_probing() -> None:
    server = PagedServer(docs(730), meta=False, clamp=100)
    assert len(read_intel(server, page_size=500)) == 730


def test_without_meta_a_short_first_page_costs_one_probe() -> None:
    server = PagedServer(docs(37), meta=False)
    assert len(read_intel(server, page_size=500)) == 37
    assert len(server.requests) == 2


def test_pages_missing_items_make_the_read_fail_instead_of_returning_partial_state() -> None:
    server = PagedServer(docs(1000), drop=1)
    with pytest.raises(InconsistentListingError, match="count is 1000 but 991 distinct"):
        read_intel(server, page_size=100)


def test_a_total_that_moves_during_the_read_fails_the_read() -> None:
    server = PagedServer(docs(1000), grow_after=3)
    with pytest.raises(InconsistentListingError, match="moved from 1000 to 1001"):
        read_intel(server, page_size=100)


def test_duplicates_across_pages_fail_the_read() -> None:
    items = docs(300)
    items[250] = items[10]  # the same document listed twice, one missing
    server = PagedServer(items)
    with pytest.raises(InconsistentListingError, match="1 duplicates"):
        read_intel(server, page_size=100)


def test_documents_of_other_sources_are_filtered_when_the_server_ignores_source_id() -> None:
    server = PagedServer(docs(150, source_id=3) + docs(150, source_id=9), source_filter=False)
    for doc in server.intel[150:]:
        doc["id"] += 1000
    intel = read_intel(server, page_size=100)
    assert len(intel) == 150 and {d.source_id for d in intel} == {3}


def test_read_state_reads_the_three_listings_and_picks_the_oldest_same_named_source() -> None:
    server = PagedServer(docs(120))

    async def scenario(client: TaniumClient) -> Any:
        return await client.read_state("OpenCTI")

    state = run(server, scenario, page_size=50)
    assert state.source_id == 3 and state.source_name == "OpenCTI"
    assert len(state.intel) == 120
    assert [label.name for label in state.labels] == ["label-1", "label-2", "label-3"]
    assert len(state.blocklist) == 1200
    assert state.blocklist[0].sha256 == f"{1:064x}" and state.blocklist[0].md5 == ""
    label_calls = [r for r in server.requests if r.url.path == f"{TR}/labels"]
    assert len(label_calls) == 1 and label_calls[0].url.params["noLimit"] == "true"


def test_read_state_without_the_source_lists_no_intel_and_creates_nothing() -> None:
    server = PagedServer(docs(10))

    async def scenario(client: TaniumClient) -> Any:
        return await client.read_state("Not there")

    state = run(server, scenario)
    assert state.source_id is None and state.intel == ()
    assert all(r.method == "GET" for r in server.requests)
    assert not [r for r in server.requests if r.url.path.rstrip("/") == f"{TR}/intels"]


def test_labels_without_meta_ignoring_offset_do_not_loop() -> None:
    server = PagedServer(meta=False)

    async def scenario(client: TaniumClient) -> Any:
        return await client.list_labels()

    assert len(run(server, scenario)) == 3
    assert len(server.requests) == 2


def test_find_intel_by_name_and_intrinsic_id_match_exactly() -> None:
    server = PagedServer(docs(30))

    async def scenario(client: TaniumClient) -> Any:
        by_name = await client.find_intel_by_name(TaniumId(3), "doc 1")
        by_id = await client.find_intel_by_intrinsic_id(TaniumId(3), "ioc-12", name="doc 12")
        whole = await client.find_intel_by_intrinsic_id(TaniumId(3), "ioc-29")
        missing = await client.find_intel_by_intrinsic_id(TaniumId(3), "nope")
        return by_name, by_id, whole, missing

    by_name, by_id, whole, missing = run(server, scenario)
    assert [d.id for d in by_name] == [1]  # not "doc 10".."doc 19"
    assert by_id is not None and by_id.id == 12
    assert whole is not None and whole.id == 29
    assert missing is None


def test_search_blocklist_keeps_exact_hash_matches() -> None:
    server = PagedServer()

    async def scenario(client: TaniumClient) -> Any:
        return await client.search_blocklist(f"{12:064X}")

    found = run(server, scenario)
    assert [e.id for e in found] == [12]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (httpx.Response(200, json={"data": {"id": 1, "name": "All Computers"}}), 1),
        (httpx.Response(404, json={"text": "not found"}), None),
        (httpx.Response(200, json={"data": None}), None),
    ],
)
def test_group_id_by_name(answer: httpx.Response, expected: int | None) -> None:
    paths = []

    def server(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path)
        return answer

    async def scenario(client: TaniumClient) -> Any:
        return await client.group_id_by_name("All Computers/x")

    assert run(server, scenario) == expected
    assert paths == [b"/api/v2/groups/by-name/All%20Computers%2Fx"]


def test_intel_labels_and_deploy_status() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/labels"):
            return reply([{"id": 4, "name": "emotet", "indicatorCount": 1}])
        return reply({"createdAt": "a", "modifiedAt": "b", "currentRevision": 3,
                      "currentSize": 10})  # fmt: skip

    async def scenario(client: TaniumClient) -> Any:
        return await client.intel_labels(TaniumId(1)), await client.deploy_status()

    labels, status = run(server, scenario)
    assert labels[0].name == "emotet"
    assert status.current_revision == 3 and status.modified_at == "b"
