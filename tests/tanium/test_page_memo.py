"""The page memo (`PageMemo`): a read that reuses the previous read's unchanged pages gives
the inventory a read from scratch gives — whatever changed in Tanium in between — over real
HTTP against the emulator. Small pages (20) so that a few hundred objects make many pages, and
edits that shift pages (deletes), change one (a description, a label), add one (creates)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from octi_sandbox.server import serve_in_thread
from octi_sandbox.tanium import DEFAULT_TOKEN, TaniumConfig, create_app

from controller.core.model import ActualState
from controller.tanium import TaniumClient
from controller.tanium.pagination import PageMemo

TOKEN = DEFAULT_TOKEN
SOURCE = "OpenCTI (octi-tanium)"
TR = "/plugin/products/threat-response/api/v1"
PAGE = 20


@pytest.fixture(scope="module")
def tanium() -> Iterator[str]:
    with serve_in_thread(create_app(TaniumConfig())) as url:
        yield url


def seed(url: str, documents: int, entries: int, first: int = 0) -> list[int]:
    body: dict[str, Any] = {
        "intel": {
            "sourceName": SOURCE,
            "documents": [
                {
                    "name": f"doc-{i}",
                    "contents": f"rule r{i} {{ condition: true }}",
                    "type": "yara",
                    "description": f"document {i}",
                    "intrinsicId": None,
                    "labels": [f"label-{i % 3}"],
                }
                for i in range(first, first + documents)
            ],
        },
        "reputation": {
            "entries": [
                {"list": "blacklist", "sha256": f"{i:064x}", "notes": f"entry {i}"}
                for i in range(first, first + entries)
            ],
        },
    }
    reply = httpx.post(url + "/__sandbox/seed", json=body, timeout=30)
    reply.raise_for_status()
    return list(reply.json()["intel"])


def read(url: str, pages: PageMemo | None) -> ActualState:
    async def go() -> ActualState:
        async with TaniumClient(url, TOKEN, page_size=PAGE) as client:
            return await client.read_state(SOURCE, pages=pages)

    return asyncio.run(go())


@pytest.fixture()
def fresh(tanium: str) -> str:
    httpx.post(tanium + "/__sandbox/reset", json={"seed": "empty"}, timeout=30).raise_for_status()
    return tanium


def test_an_unchanged_inventory_is_neither_decoded_nor_mapped_again(fresh: str) -> None:
    seed(fresh, 150, 70)
    memo = PageMemo()
    first = read(fresh, memo)
    assert (memo.reused, memo.decoded > 10) == (0, True)
    again = read(fresh, memo)
    assert again == first == read(fresh, None)
    assert memo.decoded == 0 and memo.reused > 10
    # the very same values: the next stages may compare them by identity
    assert all(a is b for a, b in zip(again.intel, first.intel, strict=True))
    assert all(a is b for a, b in zip(again.blocklist, first.blocklist, strict=True))


def test_a_changed_page_is_read_again_and_the_others_are_reused(fresh: str) -> None:
    ids = seed(fresh, 150, 0)
    memo = PageMemo()
    read(fresh, memo)
    edited = ids[75]  # one page: a new description
    httpx.put(
        f"{fresh}{TR}/intels/{edited}",
        content=b"rule edited { condition: true }",
        headers={
            "session": TOKEN,
            "content-type": "text/plain",
            "type": "yara",
            "name": "doc-75",
            "description": "edited by hand",
        },
        timeout=30,
    ).raise_for_status()
    state = read(fresh, memo)
    assert state == read(fresh, None)
    assert next(d for d in state.intel if d.id == edited).description == "edited by hand"
    assert memo.decoded >= 1 and memo.reused > 5


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["delete", "relabel", "create", "describe", "unblock", "nothing"]),
            st.integers(min_value=0, max_value=10_000),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_read_with_the_memo_equals_a_read_from_scratch_after_any_edits(
    fresh: str, steps: list[tuple[str, int]]
) -> None:
    httpx.post(fresh + "/__sandbox/reset", json={"seed": "empty"}, timeout=30).raise_for_status()
    seed(fresh, 90, 45)
    memo = PageMemo()
    read(fresh, memo)
    created = 1000
    headers = {"session": TOKEN}
    with httpx.Client(base_url=fresh + TR, headers=headers, timeout=30) as api:
        for action, pick in steps:
            docs = api.get("/intels", params={"limit": 500}).json()["data"]
            doc = docs[pick % len(docs)] if docs else None
            if action == "delete" and doc:
                api.delete(f"/intels/{doc['id']}").raise_for_status()
            elif action == "relabel" and doc:
                labels = api.get("/labels", params={"noLimit": "true"}).json()["data"]
                label = labels[pick % len(labels)]
                api.put(f"/intels/{doc['id']}/labels", json={"id": label["id"]})
            elif action == "create":
                seed(fresh, 1 + pick % 30, pick % 3, first=created)
                created += 40
            elif action == "describe" and doc:
                api.put(
                    f"/intels/{doc['id']}",
                    content=f"rule x{pick} {{ condition: true }}".encode(),
                    headers={
                        "content-type": "text/plain",
                        "type": "yara",
                        "name": doc["name"],
                        "description": f"changed {pick}",
                    },
                ).raise_for_status()
            elif action == "unblock":
                entries = httpx.get(
                    fresh + "/plugin/products/reputation/v3/reputations/custom",
                    headers=headers,
                    params={"limit": 500},
                    timeout=30,
                ).json()["data"]
                if entries:
                    entry = entries[pick % len(entries)]
                    httpx.delete(
                        f"{fresh}/plugin/products/reputation/v3/reputations/custom/{entry['id']}",
                        headers=headers,
                        timeout=30,
                    ).raise_for_status()
            assert read(fresh, memo) == read(fresh, None)
