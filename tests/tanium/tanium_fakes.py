"""Helpers of the Tanium client tests: a fake clock, a client over a MockTransport, values."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from controller.core.model import DesiredBlocklist, DesiredIntel, Key
from controller.tanium import RetryPolicy, TaniumClient

T = TypeVar("T")
TOKEN = "token-s3cr3t-never-shown"
URL = "https://tanium.test"
TR = "/plugin/products/threat-response/api/v1"
REP = "/plugin/products/reputation/v3"
FAST = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05, max_total=60.0)


class FakeClock:
    """Monotonic and wall time that only move when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = 1_700_000_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds
        await asyncio.sleep(0)


Handler = Callable[[httpx.Request], Any]


def make_client(handler: Handler, clock: FakeClock | None = None, **options: Any) -> TaniumClient:
    clock = clock or FakeClock()
    options.setdefault("retry", FAST)
    return TaniumClient(
        URL,
        TOKEN,
        http_transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock.monotonic,
        wall_clock=clock.time,
        rng=random.Random(7),
        **options,
    )


def run(
    handler: Handler,
    scenario: Callable[[TaniumClient], Awaitable[T]],
    clock: FakeClock | None = None,
    **options: Any,
) -> T:
    """Run `scenario(client)` on a fresh event loop with a client over `handler`."""

    async def main() -> T:
        async with make_client(handler, clock, **options) as client:
            return await scenario(client)

    return asyncio.run(main())


def reply(
    data: Any,
    status: int = 200,
    *,
    meta: dict[str, Any] | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    payload: dict[str, Any] = {"data": data}
    if meta is not None:
        payload["meta"] = meta
    return httpx.Response(
        status, json=payload, headers={"content-type": content_type, **(headers or {})}
    )


def error(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def intel_json(doc_id: int, source_id: int = 1, **fields: Any) -> dict[str, Any]:
    doc = {
        "id": doc_id, "revisionId": 1, "type": "openioc", "typeVersion": "1.0",
        "intrinsicId": f"ioc-{doc_id}", "md5": "0" * 32, "name": f"doc {doc_id}",
        "description": None, "size": 10, "labelIds": [], "sourceId": source_id,
        "platforms": None, "alertCount": 0, "createdAt": "2024-01-01T00:00:00.000Z",
    }  # fmt: skip
    doc.update(fields)
    return doc


def desired_intel(intel_type: str = "openioc", **fields: Any) -> DesiredIntel:
    contents = {
        "openioc": '<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="key-1">'
        "<short_description>Evil</short_description><definition/></ioc>",
        "stix": '<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1" id="pkg-1"/>',
        "yara": "rule evil { condition: true }",
        "tanium-signal": '{"name":"Evil","description":"d","contents":"process.path contains'
        ' \'evil.exe\'","platforms":["windows"]}',
    }
    values: dict[str, Any] = {
        "key": Key("indicator--1"), "intel_type": intel_type, "name": "Evil",
        "description": "An evil thing [octi:indicator--1]", "content": contents[intel_type],
        "md5": "a" * 32, "digest": "d1",
    }  # fmt: skip
    values.update(fields)
    return DesiredIntel(**values)


def desired_entry(n: int, **fields: Any) -> DesiredBlocklist:
    values: dict[str, Any] = {
        "key": Key(f"file--{n}"), "sha256": f"{n:064x}", "md5": f"{n:032x}",
        "notes": f"octi file--{n}", "digest": "d", "name": f"file {n}",
    }  # fmt: skip
    values.update(fields)
    return DesiredBlocklist(**values)
