"""How a listing pages: the next page in flight while this one is mapped, no request left
behind, the cyclic collector paused."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import DEMO_SEED

from controller.policy.loader import PolicySet
from controller.sources.opencti.client import GraphQLClient
from controller.sources.opencti.fetch import _Listing
from controller.sources.opencti.queries import INDICATORS

from .conftest import InProcess, run, settings_for


def _variables(after: str | None) -> dict[str, Any]:
    return {"first": 25, "after": after}


def test_the_next_page_is_requested_before_this_page_is_mapped(emulator: InProcess) -> None:
    emulator.state.seed(json.loads(DEMO_SEED.read_bytes()))  # 62 indicators: 3 pages of 25
    requests_at: list[int] = []

    async def go() -> _Listing:
        async with GraphQLClient(settings_for(), transport=emulator.transport()) as client:
            listing = _Listing("indicators", lambda node: requests_at.append(client.requests), None)
            await listing.run(client, INDICATORS, _variables)
            assert client.requests == 3
            return listing

    listing = run(go())
    assert listing.reasons == [] and listing.count == 62
    # every node of a page is mapped while the next page (if any) is already asked for
    assert requests_at[:25] == [2] * 25
    assert requests_at[25:50] == [3] * 25
    assert requests_at[50:] == [3] * 12


def test_a_listing_that_fails_while_mapping_cancels_the_page_in_flight() -> None:
    cancelled: list[bool] = []

    async def server(request: httpx.Request) -> httpx.Response:
        after = json.loads(request.content)["variables"]["after"]
        if after is None:
            node = {"standard_id": "indicator--1", "entity_type": "Indicator"}
            info = {"hasNextPage": True, "endCursor": "c1", "globalCount": 2}
            page = {"pageInfo": info, "edges": [{"node": node}]}
            return httpx.Response(200, json={"data": {"indicators": page}})
        try:
            await asyncio.sleep(30)  # the second page never comes
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        raise AssertionError("not cancelled")

    def broken(node: dict[str, Any]) -> None:
        raise RuntimeError("a bug in a mapper")

    async def go() -> tuple[list[asyncio.Task[Any]], list[bool]]:
        transport = httpx.MockTransport(server)
        async with GraphQLClient(settings_for(), transport=transport) as client:
            with pytest.raises(RuntimeError, match="a bug in a mapper"):
                await _Listing("indicators", broken, None).run(client, INDICATORS, _variables)
        this = asyncio.current_task()
        return [t for t in asyncio.all_tasks() if t is not this and not t.done()], list(cancelled)

    assert run(go()) == ([], [True])


def test_the_collector_is_paused_while_fetching(emulator: InProcess, everything: PolicySet) -> None:
    emulator.state.seed(json.loads(DEMO_SEED.read_bytes()))
    enabled: list[bool] = []
    assert gc.isenabled()
    snapshot = emulator.fetch(
        everything, page_size=25, progress=lambda *_: enabled.append(gc.isenabled())
    )
    assert snapshot.complete and len(enabled) > 3
    assert not any(enabled)
    assert gc.isenabled()


def test_pages_do_not_pile_up_while_the_collector_is_paused(
    emulator: InProcess, everything: PolicySet
) -> None:
    emulator.state.seed(json.loads(DEMO_SEED.read_bytes()))  # 62 indicators: 7 pages of 10
    alive: list[int] = []

    def responses(label: str, fetched: int, total: int | None) -> None:
        if label == "indicators" and total is not None:
            alive.append(sum(isinstance(o, httpx.Response) for o in gc.get_objects()))

    snapshot = emulator.fetch(everything, page_size=10, progress=responses)
    assert snapshot.complete and len(alive) == 7
    assert max(alive) <= 3, alive  # this page's, the next one's, the observables' at most
