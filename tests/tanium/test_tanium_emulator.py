"""The client against the Tanium emulator over real HTTP (uvicorn on 127.0.0.1).

Every write is verified through `/__sandbox/state`, not through the client itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from octi_sandbox.server import serve_in_thread
from octi_sandbox.tanium import DEFAULT_TOKEN, TaniumConfig, create_app
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tanium_fakes import desired_entry

from controller.core.model import DesiredIntel, Key, TaniumId
from controller.tanium import (
    AuthError,
    NotFoundError,
    RejectedError,
    RetryPolicy,
    TaniumClient,
)

T = TypeVar("T")
QUICK = RetryPolicy(max_attempts=12, base_delay=0.002, max_delay=0.02, max_total=30.0)


class LoseReplies:
    """ASGI wrapper: the next `pending` POSTs to Tanium routes are applied by the emulator, then
    answered 502 instead of their reply (a proxy giving up after the backend did the work)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pending = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith("/plugin/")
            and self.pending > 0
        ):
            self.pending -= 1

            async def swallow(message: Message) -> None:
                pass

            await self.app(scope, receive, swallow)
            body = b'{"text":"Bad Gateway"}'
            headers = [(b"content-type", b"application/json"),
                       (b"content-length", str(len(body)).encode())]  # fmt: skip
            await send({"type": "http.response.start", "status": 502, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class Sandbox:
    """The emulator's test routes, over HTTP."""

    def __init__(self, url: str, proxy: LoseReplies) -> None:
        self.url = url
        self.proxy = proxy
        self.http = httpx.Client(base_url=url + "/__sandbox", timeout=60)

    def reset(self) -> None:
        self.http.post("/reset", json={}).raise_for_status()

    def config(self, **switches: Any) -> None:
        self.http.post("/config", json=switches).raise_for_status()

    def faults(self, *rules: dict[str, Any]) -> None:
        self.http.post("/faults", json={"faults": list(rules), "replace": True}).raise_for_status()

    def seed(self, **body: Any) -> dict[str, Any]:
        response = self.http.post("/seed", json=body)
        response.raise_for_status()
        return dict(response.json())

    def state(self) -> dict[str, Any]:
        return dict(self.http.get("/state", params={"contents": "false"}).json())

    def faults_injected(self) -> int:
        """Faults injected so far (the emulator's counter survives resets)."""
        return int(self.http.get("/faults").json()["injected"])

    def run(self, scenario: Callable[[TaniumClient], Awaitable[T]], **options: Any) -> T:
        options.setdefault("retry", QUICK)

        async def main() -> T:
            async with TaniumClient(self.url, options.pop("token", DEFAULT_TOKEN),
                                    **options) as client:  # fmt: skip
                return await scenario(client)

        return asyncio.run(main())


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    proxy = LoseReplies(create_app(TaniumConfig(fault_seed=20240)))
    with serve_in_thread(proxy) as url:
        sandbox = Sandbox(url, proxy)
        yield sandbox
        sandbox.http.close()


@pytest.fixture
def sandbox(server: Sandbox) -> Sandbox:
    server.reset()
    server.proxy.pending = 0
    return server


def read(sandbox: Sandbox, source: str = "OpenCTI", **options: Any) -> Any:
    async def scenario(client: TaniumClient) -> Any:
        return await client.read_state(source)

    return sandbox.run(scenario, **options)


# ----------------------------------------------------------------------------- reads at scale


def seed_scale(sandbox: Sandbox) -> tuple[set[int], set[int]]:
    mine = sandbox.seed(intel={"count": 20_000, "sourceName": "OpenCTI"},
                        reputation={"count": 20_000})  # fmt: skip
    sandbox.seed(intel={"count": 300, "sourceName": "Manual", "prefix": "foreign"})
    return set(mine["intel"]), set(mine["reputation"])


@pytest.mark.slow
def test_reads_20000_documents_and_20000_blocklist_entries_exactly(sandbox: Sandbox) -> None:
    intel_ids, entry_ids = seed_scale(sandbox)
    state = read(sandbox)
    assert {d.id for d in state.intel} == intel_ids and len(state.intel) == 20_000
    assert {e.id for e in state.blocklist} == entry_ids and len(state.blocklist) == 20_000
    first = state.intel[0]
    assert (first.name, first.intrinsic_id, first.intel_type) == ("bulk-0", "bulk-0", "openioc")
    requests = sandbox.state()["counters"]["requests"]
    assert requests["GET /plugin/products/threat-response/api/v1/intels"] == 40


@pytest.mark.slow
def test_read_is_exact_with_30_percent_of_calls_failing(sandbox: Sandbox) -> None:
    intel_ids, entry_ids = seed_scale(sandbox)
    injected = sandbox.faults_injected()
    # three independent rules, evaluated in turn: 1 - 0.9 * (1 - 1/9) * (1 - 1/8) = 30 %
    sandbox.faults(
        {"kind": "error", "status": 503, "probability": 0.05},
        {"kind": "error", "status": 500, "probability": 0.05 / 0.95},
        {"kind": "rate_limit", "retryAfter": 0.01, "probability": 0.1 / 0.9},
        {"kind": "reset", "probability": 0.125},
    )
    state = read(sandbox)
    assert {d.id for d in state.intel} == intel_ids
    assert {e.id for e in state.blocklist} == entry_ids
    served = sum(sandbox.state()["counters"]["requests"].values())
    faults = sandbox.faults_injected() - injected
    assert 0.2 < faults / (served + faults) < 0.4


@pytest.mark.parametrize(
    "switches",
    [
        {"intelSourceFilter": False},
        {"listMeta": False},
        {"jsonCharset": True},
        {"intelListOrder": "id_asc"},
        {"detect3Routes": True, "listMeta": False, "intelSourceFilter": False},
    ],
    ids=["source-filter-ignored", "no-meta", "charset", "ascending", "all-quirks"],
)
def test_reads_are_exact_whatever_the_unverified_switches(
    sandbox: Sandbox, switches: dict[str, Any]
) -> None:
    mine = sandbox.seed(intel={"count": 1234, "sourceName": "OpenCTI"},
                        reputation={"count": 777})  # fmt: skip
    sandbox.seed(intel={"count": 345, "sourceName": "Manual", "prefix": "foreign"})
    sandbox.config(**switches)
    state = read(sandbox, page_size=100)
    assert [d.id for d in state.intel] == sorted(mine["intel"])
    assert [e.id for e in state.blocklist] == sorted(mine["reputation"])


def test_a_page_size_above_the_maximum_is_clamped_and_still_exact(sandbox: Sandbox) -> None:
    mine = sandbox.seed(intel={"count": 1600, "sourceName": "OpenCTI"})
    state = read(sandbox, page_size=2000)
    assert [d.id for d in state.intel] == sorted(mine["intel"])


def test_an_absent_source_reads_as_none_and_is_not_created(sandbox: Sandbox) -> None:
    state = read(sandbox, "OpenCTI (octi-tanium)")
    assert state.source_id is None and state.intel == ()
    assert sandbox.state()["sources"] == []


def test_the_token_never_reaches_the_logs(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "token-do-not-log-0123456789"
    sandbox.config(tokens={secret: ["intel:write", "intel:deploy", "scan", "reputation:write"]})
    sandbox.seed(intel={"count": 30, "sourceName": "OpenCTI"})
    sandbox.faults({"kind": "error", "status": 503, "times": 2})
    caplog.set_level(logging.DEBUG)

    async def scenario(client: TaniumClient) -> Any:
        state = await client.read_state("OpenCTI")
        try:
            await client.get_intel(TaniumId(99_999))
        except NotFoundError as exc:
            return state, exc
        raise AssertionError("expected a 404")

    state, missing = sandbox.run(scenario, token=secret)
    assert len(state.intel) == 30
    records = [r.getMessage() for r in caplog.records]
    assert any("httpx" in r.name or "httpcore" in r.name for r in caplog.records)
    assert any("503" in text for text in records)  # the retries were logged
    assert all(secret not in text for text in [*records, str(missing), repr(missing)])


def test_an_unknown_token_is_an_auth_error(sandbox: Sandbox) -> None:
    with pytest.raises(AuthError, match="401") as caught:
        read(sandbox, token="token-wrong")
    assert "token-wrong" not in str(caught.value)


def test_a_token_without_deploy_permission_is_an_auth_error(sandbox: Sandbox) -> None:
    sandbox.config(tokens={DEFAULT_TOKEN: ["intel:write"]})

    async def scenario(client: TaniumClient) -> int:
        return await client.deploy()

    with pytest.raises(AuthError, match="403"):
        sandbox.run(scenario)


# ----------------------------------------------------------------------------- writes


def intel(intel_type: str, version: int = 1, **fields: Any) -> DesiredIntel:
    name = f"Evil {intel_type} v{version}"
    content = {
        "openioc": f'<ioc xmlns="http://schemas.mandiant.com/2010/ioc" id="ioc-key-1">'
        f"<short_description>{name}</short_description><description>d{version}</description>"
        "<definition/></ioc>",
        "stix": '<stix:STIX_Package xmlns:stix="http://stix.mitre.org/stix-1" '
        'xmlns:indicator="http://stix.mitre.org/Indicator-2" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:example="http://example.com" id="example:Package-1" version="1.2">'
        '<stix:Indicators><stix:Indicator xsi:type="indicator:IndicatorType" '
        f'id="example:indicator-1"><indicator:Title>{name}</indicator:Title>'
        "</stix:Indicator></stix:Indicators></stix:STIX_Package>",
        "yara": f'rule evil_{version} {{ strings: $a = "evil{version}" condition: $a }}',
        "tanium-signal": json.dumps(
            {
                "name": name,
                "description": f"d{version}",
                "contents": f"process.path contains 'evil{version}.exe'",
                "platforms": ["windows"],
            },
            separators=(",", ":"),
        ),
    }[intel_type]
    values: dict[str, Any] = {
        "key": Key(f"indicator--{intel_type}"), "intel_type": intel_type, "name": name,
        "description": f"d{version}", "content": content,
        "md5": hashlib.md5(content.encode()).hexdigest(), "digest": str(version),
        "filename": "evil.yara" if intel_type == "yara" else None,
    }  # fmt: skip
    values.update(fields)
    return DesiredIntel(**values)


def docs_by_id(sandbox: Sandbox) -> dict[int, dict[str, Any]]:
    return {d["id"]: d for d in sandbox.state()["intels"]}


@pytest.mark.parametrize("intel_type", ["openioc", "stix", "yara", "tanium-signal"])
def test_intel_create_update_delete_round_trip(sandbox: Sandbox, intel_type: str) -> None:
    async def create(client: TaniumClient) -> Any:
        source = await client.ensure_source("OpenCTI", "managed by octi-tanium")
        return source, await client.create_intel(source, intel(intel_type))

    source, created = sandbox.run(create)
    doc = docs_by_id(sandbox)[created.id]
    assert (doc["type"], doc["name"], doc["sourceId"]) == (intel_type, f"Evil {intel_type} v1",
                                                           source)  # fmt: skip
    assert doc["md5"] == intel(intel_type).md5 == created.md5
    if intel_type == "yara":
        assert doc["description"] == "d1" and doc["intrinsicId"] == "evil.yara"

    async def update(client: TaniumClient) -> Any:
        return await client.update_intel(created.id, intel(intel_type, 2), created.intrinsic_id)

    updated = sandbox.run(update)
    doc = docs_by_id(sandbox)[created.id]
    assert updated.id == created.id and len(docs_by_id(sandbox)) == 1
    assert (doc["revisionId"], doc["name"], doc["md5"]) == (2, f"Evil {intel_type} v2",
                                                            intel(intel_type, 2).md5)  # fmt: skip

    async def delete(client: TaniumClient) -> Any:
        return await client.delete_intel(created.id), await client.delete_intel(created.id)

    assert sandbox.run(delete) == (True, False)
    assert docs_by_id(sandbox) == {}


def test_latin1_names_travel_and_utf8_is_never_sent(sandbox: Sandbox) -> None:
    async def create(client: TaniumClient) -> Any:
        source = await client.ensure_source("OpenCTI", "")
        made = await client.create_intel(source, intel("yara", name="Café évil"))
        try:
            await client.create_intel(source, intel("yara", 2, name="Évil ☠"))
        except RejectedError as exc:
            return made, exc
        raise AssertionError("a non-Latin-1 header was sent")

    made, refused = sandbox.run(create)
    assert docs_by_id(sandbox)[made.id]["name"] == "Café évil"
    assert "not Latin-1" in refused.reason and len(docs_by_id(sandbox)) == 1


def test_ensure_source_creates_once(sandbox: Sandbox) -> None:
    async def twice(client: TaniumClient) -> Any:
        return [await client.ensure_source("OpenCTI", "d") for _ in range(2)]

    first, second = sandbox.run(twice)
    assert first == second
    assert [(s["name"], s["type"]) for s in sandbox.state()["sources"]] == [
        ("OpenCTI", "api-client")
    ]


def test_labels_create_attach_detach_round_trip(sandbox: Sandbox) -> None:
    async def scenario(client: TaniumClient) -> Any:
        source = await client.ensure_source("OpenCTI", "")
        doc = await client.create_intel(source, intel("openioc"))
        label = await client.create_label("Emotet", "from OpenCTI")
        again = await client.create_label("emotet", "from OpenCTI")  # taken: the same label
        await client.attach_label(doc.id, label.id)
        await client.attach_label(doc.id, label.id)  # idempotent
        attached = await client.intel_labels(doc.id)
        return doc, label, again, attached

    doc, label, again, attached = sandbox.run(scenario)
    assert again.id == label.id and [la.name for la in attached] == ["Emotet"]
    state = sandbox.state()
    assert [la["name"] for la in state["labels"]] == ["Emotet"]
    assert state["intels"][0]["labels"] == ["Emotet"]

    async def detach(client: TaniumClient) -> Any:
        await client.detach_label(doc.id, label.id)
        await client.detach_label(doc.id, label.id)  # not attached any more: fine
        return (await client.read_state("OpenCTI")).intel[0].label_ids

    assert sandbox.run(detach) == ()
    assert sandbox.state()["intels"][0]["labels"] == []


def test_deploy_status_and_scan_round_trip(sandbox: Sandbox) -> None:
    async def scenario(client: TaniumClient) -> Any:
        source = await client.ensure_source("OpenCTI", "")
        doc = await client.create_intel(source, intel("tanium-signal"))
        before = await client.deploy_status()
        task = await client.deploy()
        after = await client.deploy_status()
        group = await client.group_id_by_name("All Computers")
        missing = await client.group_id_by_name("No Such Group")
        assert group is not None
        scan = await client.scan(group, doc.id)
        return doc, before, task, after, group, missing, scan

    doc, before, task, after, group, missing, scan = sandbox.run(scenario)
    state = sandbox.state()
    assert [d["taskId"] for d in state["deployments"]] == [task]
    assert before.current_revision == 0 and after.current_revision == 1
    assert after.current_size == 1 and state["undeployedChanges"] == 0
    assert missing is None
    assert [(s["id"], s["computerGroupId"], s["intelDocId"]) for s in state["scans"]] == [
        (scan, group, doc.id)
    ]


def test_deploy_waits_for_a_running_deployment(sandbox: Sandbox) -> None:
    sandbox.config(deployDurationSeconds=0.3, deployWhileRunning="reject")
    retry = RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.1, max_total=10)

    async def scenario(client: TaniumClient) -> Any:
        return await client.deploy(), await client.deploy()

    first, second = sandbox.run(scenario, retry=retry, deploy_wait=5.0)
    assert first != second and len(sandbox.state()["deployments"]) == 2


def test_blocklist_add_is_idempotent_and_remove_round_trips(sandbox: Sandbox) -> None:
    entries = [desired_entry(n) for n in range(1, 1201)]

    async def add(client: TaniumClient) -> Any:
        await client.blocklist_add(entries)
        await client.blocklist_add(entries[:600])  # again: consolidated, no duplicates
        return await client.search_blocklist(entries[0].sha256.upper())

    found = sandbox.run(add)
    reputation = sandbox.state()["reputation"]
    assert len(reputation) == 1200
    assert {(e["sha256"], e["md5"], e["notes"], e["list"]) for e in reputation} == {
        (e.sha256, e.md5, e.notes, "blacklist") for e in entries
    }
    assert [e.sha256 for e in found] == [entries[0].sha256]

    async def remove(client: TaniumClient) -> Any:
        return await client.blocklist_remove(found[0].id), await client.blocklist_remove(
            found[0].id
        )

    assert sandbox.run(remove) == (True, False)
    assert len(sandbox.state()["reputation"]) == 1199


# ----------------------------------------------------------------------------- creates under faults


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "status": 503, "times": 3},
        {"kind": "reset", "times": 2},
        {"kind": "truncate", "times": 1},
        {"kind": "rate_limit", "retryAfter": 0.01, "times": 2},
    ],
    ids=["503", "reset", "truncated", "429"],
)
def test_creates_under_faults_never_duplicate(sandbox: Sandbox, fault: dict[str, Any]) -> None:
    sandbox.config(postExistingIntrinsicId="duplicate", duplicateSourceNames="allow")
    sandbox.faults({**fault, "method": "POST", "route": "/plugin/*"})
    injected = sandbox.faults_injected()

    async def scenario(client: TaniumClient) -> Any:
        source = await client.ensure_source("OpenCTI", "")
        doc = await client.create_intel(source, intel("openioc"))
        label = await client.create_label("emotet", "")
        return source, doc, label

    source, doc, label = sandbox.run(scenario)
    state = sandbox.state()
    assert [s["id"] for s in state["sources"]] == [source]
    assert [d["id"] for d in state["intels"]] == [doc.id]
    assert [la["id"] for la in state["labels"]] == [label.id]
    assert sandbox.faults_injected() - injected == fault["times"]


def test_creates_applied_but_unanswered_are_not_repeated(sandbox: Sandbox) -> None:
    """The server did the work but the reply was lost: the look-up finds it, nothing doubles."""
    sandbox.config(postExistingIntrinsicId="duplicate", duplicateSourceNames="allow")

    async def scenario(client: TaniumClient) -> Any:
        sandbox.proxy.pending = 1
        source = await client.ensure_source("OpenCTI", "")
        made = []
        for intel_type in ("openioc", "stix", "yara", "tanium-signal"):
            sandbox.proxy.pending = 1
            made.append(await client.create_intel(source, intel(intel_type)))
        sandbox.proxy.pending = 1
        label = await client.create_label("emotet", "")
        sandbox.proxy.pending = 1
        task = await client.deploy()
        return source, made, label, task

    source, made, label, task = sandbox.run(scenario)
    state = sandbox.state()
    assert sandbox.proxy.pending == 0  # every one of those replies was lost
    assert [s["id"] for s in state["sources"]] == [source]
    assert sorted(d["id"] for d in state["intels"]) == sorted(d.id for d in made)
    assert [la["id"] for la in state["labels"]] == [label.id]
    assert len(state["deployments"]) == 1 and task == 0


def test_reads_and_idempotent_writes_survive_failing_calls(sandbox: Sandbox) -> None:
    sandbox.faults({"kind": "error", "status": 502, "probability": 0.3},
                   {"kind": "reset", "probability": 0.1})  # fmt: skip

    async def scenario(client: TaniumClient) -> Any:
        source = await client.ensure_source("OpenCTI", "")
        doc = await client.create_intel(source, intel("yara"))
        label = await client.create_label("apt", "")
        await client.attach_label(doc.id, label.id)
        await client.blocklist_add([desired_entry(n) for n in range(1, 51)])
        await client.update_intel(doc.id, intel("yara", 2), doc.intrinsic_id)
        return await client.read_state("OpenCTI")

    state = sandbox.run(scenario)
    truth = sandbox.state()
    assert [(d.id, d.revision_id, d.label_ids) for d in state.intel] == [
        (d["id"], d["revisionId"], tuple(d["labelIds"])) for d in truth["intels"]
    ]
    assert truth["intels"][0]["revisionId"] == 2 and len(truth["reputation"]) == 50
    assert len(truth["labels"]) == 1 and TaniumId(truth["labels"][0]["id"]) == state.labels[0].id
