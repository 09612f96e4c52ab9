"""The transport's send path over real HTTP: straight to the connection pool the client would
use (its proxy from the environment, a base URL's path), the pooled streams of
`controller.tanium.connections` (one write per request, closed connections noticed), and the
TLS context made once."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from octi_sandbox.server import serve_in_thread
from octi_sandbox.tanium import DEFAULT_TOKEN, TaniumConfig, create_app
from pydantic import SecretStr
from tanium_fakes import TOKEN, TR, desired_intel

from controller.core.model import Key, TaniumId
from controller.retry import RetryPolicy
from controller.tanium import TaniumClient, TaniumError, TransientError, connections
from controller.tanium.transport import Transport, system_trust

ONCE = RetryPolicy(max_attempts=1)


@dataclass
class Seen:
    """What a raw HTTP server received: per connection, each request's head and body."""

    requests: list[tuple[int, bytes, bytes]] = field(default_factory=list)
    first_reads: list[bytes] = field(default_factory=list)
    connections: int = 0
    closed: threading.Event = field(default_factory=threading.Event)


def _read_request(conn: socket.socket, pending: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(head, body, rest) of the next request on `conn`, None at end of stream."""
    data = pending
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head, rest[:length], rest[length:]


TLS = Path(__file__).parent / "tls"
"""A self-signed certificate for 127.0.0.1 (valid to 2126) and its key, for these tests only."""


@contextmanager
def raw_server(
    *, close_after: int | None = None, tls: bool = False, data: Any = None
) -> Iterator[tuple[str, Seen]]:
    """An HTTP/1.1 server on 127.0.0.1 answering every request `{"data": {"ok": true}}` (or
    `{"data": data}`), and recording it; `close_after=N` closes each connection after its N-th
    answer (a server dropping idle keep-alive connections); `tls`: HTTPS with the certificate
    in `TLS`."""
    seen = Seen()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH) if tls else None
    if server_tls is not None:
        server_tls.load_cert_chain(TLS / "localhost.pem", TLS / "localhost.key")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve(conn: socket.socket, number: int) -> None:
        pending, answered = b"", 0
        with conn:
            first = conn.recv(65536)
            seen.first_reads.append(first)
            pending = first
            while not stop.is_set():
                request = _read_request(conn, pending)
                if request is None:
                    return
                head, body, pending = request
                seen.requests.append((number, head, body))
                payload = json.dumps({"data": {"ok": True} if data is None else data}).encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(payload), payload)
                )
                answered += 1
                if close_after is not None and answered >= close_after:
                    conn.shutdown(socket.SHUT_RDWR)
                    seen.closed.set()
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            seen.connections += 1
            if server_tls is not None:
                try:
                    conn = server_tls.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):
                    conn.close()
                    continue
            threading.Thread(target=serve, args=(conn, seen.connections), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}", seen
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def transport(url: str, **options: Any) -> Transport:
    options.setdefault("retry", ONCE)
    return Transport(url, SecretStr(TOKEN), **options)


def run(url: str, calls: Callable[[Transport], Any], **options: Any) -> Any:
    async def go() -> Any:
        t = transport(url, **options)
        try:
            return await calls(t)
        finally:
            await t.aclose()

    return asyncio.run(go())


def test_a_request_with_a_body_reaches_the_server_in_one_write() -> None:
    async def calls(t: Transport) -> None:
        await t.request("PUT", f"{TR}/intels/7/labels", json={"id": 3})

    with raw_server() as (url, seen):
        run(url, calls)
    assert len(seen.requests) == 1
    _, head, body = seen.requests[0]
    assert json.loads(body) == {"id": 3}
    # head and body were sent together: the server's first read holds the whole request (two
    # writes are two segments, which a late read may still get at once: the TLS test below,
    # where each write is its own record, is the one that always tells)
    assert seen.first_reads[0] == head + b"\r\n\r\n" + body


def test_over_tls_requests_reuse_the_connection_and_arrive_in_one_write() -> None:
    """HTTPS: the TLS stream is wrapped too (its head and body go in one TLS record, and the
    second request reuses the connection after the pool asked whether it was closed)."""
    trust = ssl.create_default_context(cafile=str(TLS / "localhost.pem"))

    async def calls(t: Transport) -> list[Any]:
        first = await t.request("PUT", f"{TR}/intels/7/labels", json={"id": 3})
        second = await t.request("PUT", f"{TR}/intels/8/labels", json={"id": 4})
        return [first.data, second.data]

    with raw_server(tls=True) as (url, seen):
        assert run(url, calls, verify=trust) == [{"ok": True}, {"ok": True}]
    assert seen.connections == 1
    assert [json.loads(body) for _, _, body in seen.requests] == [{"id": 3}, {"id": 4}]
    _, head, body = seen.requests[0]
    assert seen.first_reads[0] == head + b"\r\n\r\n" + body


def test_tls_verification_still_refuses_an_unknown_certificate() -> None:
    async def calls(t: Transport) -> None:
        await t.request("GET", f"{TR}/labels")

    with raw_server(tls=True) as (url, _), pytest.raises(TaniumError, match="TANIUM_CA_BUNDLE"):
        run(url, calls)


def test_a_body_larger_than_the_coalescing_bound_arrives_whole() -> None:
    big = b"x" * (connections.COALESCE * 3 + 17)

    async def calls(t: Transport) -> None:
        await t.request("POST", f"{TR}/sources/1/intels", content=big, idempotent=False)

    with raw_server() as (url, seen):
        run(url, calls)
    assert [body for _, _, body in seen.requests] == [big]


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_replies_larger_than_a_read_arrive_whole(tls: bool) -> None:
    """Reads take what has arrived, up to `READ_SIZE`: replies of a few bytes, of several
    reads, and on one connection after each other, arrive intact."""
    rows = [{"id": i, "name": f"indicator {i} " + "x" * (i % 97)} for i in range(40_000)]
    assert len(json.dumps(rows)) > 2 * connections.READ_SIZE

    async def calls(t: Transport) -> list[Any]:
        return [(await t.request("GET", f"{TR}/intels")).data for _ in range(3)]

    with raw_server(tls=tls, data=rows) as (url, seen):
        context = ssl.create_default_context(cafile=str(TLS / "localhost.pem")) if tls else None
        got = run(url, calls, **({"verify": context} if tls else {}))
    assert got == [rows] * 3 and seen.connections == 1


def test_a_connection_the_server_closed_is_not_reused() -> None:
    """The pool asks each idle connection whether the server closed it (the stream's cached
    socket answers); without that the second request would go out on a dead connection and
    fail (no retries here)."""

    async def calls(t: Transport) -> list[Any]:
        first = await t.request("GET", f"{TR}/sources")
        await asyncio.to_thread(seen.closed.wait, 10)
        await asyncio.sleep(0.05)  # the FIN crosses the loopback
        second = await t.request("GET", f"{TR}/sources")
        return [first.data, second.data]

    with raw_server(close_after=1) as (url, seen):
        assert run(url, calls) == [{"ok": True}, {"ok": True}]
    assert seen.connections == 2
    assert [n for n, _, _ in seen.requests] == [1, 2]


def test_requests_carry_the_session_and_the_clients_default_headers() -> None:
    async def calls(t: Transport) -> None:
        await t.request("GET", f"{TR}/labels", params={"noLimit": "true"})

    with raw_server() as (url, seen):
        run(url, calls)
    head = seen.requests[0][1].decode()
    lines = head.split("\r\n")
    assert lines[0] == f"GET {TR}/labels?noLimit=true HTTP/1.1"
    fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert fields["session"] == TOKEN
    assert fields["accept"] == "application/json"
    assert fields["user-agent"].startswith("python-httpx/")
    assert fields["host"] == url.removeprefix("http://")
    assert "authorization" not in fields and "cookie" not in fields


def test_a_base_url_with_a_path_prefixes_every_request() -> None:
    async def calls(t: Transport) -> None:
        await t.request("GET", f"{TR}/labels")

    with raw_server() as (url, seen):
        run(url + "/tanium/", calls)
    assert seen.requests[0][1].split(b"\r\n")[0] == f"GET /tanium{TR}/labels HTTP/1.1".encode()


def test_the_proxy_the_environment_names_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    async def calls(t: Transport) -> Any:
        return (await t.request("GET", f"{TR}/labels")).data

    with raw_server() as (proxy, seen):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        assert run("http://tanium.invalid", calls) == {"ok": True}
    request_line = seen.requests[0][1].split(b"\r\n")[0]
    assert request_line == f"GET http://tanium.invalid{TR}/labels HTTP/1.1".encode()


def test_a_connection_error_names_its_request() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    async def calls(t: Transport) -> None:
        await t.request("GET", f"{TR}/labels")

    with pytest.raises(TransientError) as caught:
        run(f"http://127.0.0.1:{port}", calls)
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert cause.request.url == f"http://127.0.0.1:{port}{TR}/labels"


def test_the_default_pool_is_tuned_and_a_test_transport_is_left_alone() -> None:
    plain = httpx.AsyncHTTPTransport()
    assert connections.tune(plain)
    assert connections.tune(plain)  # once only: not wrapped twice
    backend = plain._pool._network_backend
    assert isinstance(backend, connections.Backend)
    assert not isinstance(backend.inner, connections.Backend)
    assert not connections.tune(httpx.MockTransport(lambda r: httpx.Response(200)))
    assert isinstance(backend.inner, httpcore.AsyncNetworkBackend)


def test_the_system_tls_context_is_made_once_per_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert system_trust() is system_trust()
    first = transport("https://tanium.test")
    second = transport("https://tanium.test")
    try:
        assert first._client._transport._pool._ssl_context is system_trust()  # type: ignore[attr-defined]
        assert second._client._transport._pool._ssl_context is system_trust()  # type: ignore[attr-defined]
    finally:
        asyncio.run(first.aclose())
        asyncio.run(second.aclose())
    monkeypatch.setenv("SSL_CERT_DIR", "/nonexistent-ca-dir")
    assert system_trust() is not _without_env_trust()


def _without_env_trust() -> Any:
    from controller.tanium.transport import _trust

    return _trust(None, None)


def test_an_apply_sized_run_against_the_emulator_is_exact() -> None:
    """Many concurrent creates and label attaches through the tuned pool: every document and
    every label lands once (the requests' bodies were not mixed up by the held writes)."""

    async def go(url: str) -> list[tuple[TaniumId, list[int]]]:
        async with TaniumClient(url, DEFAULT_TOKEN, max_in_flight=8) as client:
            labels = [await client.create_label(f"label-{i}", "") for i in range(3)]
            source = await client.ensure_source("OpenCTI (octi-tanium)", "bench")

            async def one(i: int) -> tuple[TaniumId, list[int]]:
                doc = desired_intel(
                    "yara", key=Key(f"indicator--{i}"), name=f"doc {i}",
                    content=f"rule r{i} {{ condition: true }}",
                )  # fmt: skip
                created = await client.create_intel(source, doc)
                want = [labels[i % 3].id, labels[(i + 1) % 3].id]
                await client.attach_labels(created.id, want)
                return created.id, sorted(want)

            return await asyncio.gather(*(one(i) for i in range(120)))

    with serve_in_thread(create_app(TaniumConfig())) as url:
        made = asyncio.run(go(url))
        state = httpx.get(url + "/__sandbox/state", timeout=30).json()
    docs = {d["id"]: sorted(d["labelIds"]) for d in state["intels"]}
    assert len(docs) == 120
    assert {doc_id: labels for doc_id, labels in made} == docs


def test_each_reply_is_logged_as_httpx_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    """`controller.run.requests` counts the replies from httpx's INFO records (the
    `octi_tanium_requests_total` metric): the send path logs the very same record."""

    async def calls(t: Transport) -> None:
        await t.request("PUT", f"{TR}/intels/7/labels", json={"id": 3})
        async with httpx.AsyncClient() as plain:
            await plain.put(t.base_url + f"{TR}/intels/7/labels", json={"id": 3})

    with caplog.at_level(logging.INFO, logger="httpx"), raw_server() as (url, _):
        run(url, calls)
    records = [r for r in caplog.records if r.name == "httpx"]
    assert len(records) == 2
    ours, httpx_own = records
    assert ours.getMessage() == httpx_own.getMessage()
    assert ours.getMessage() == f'HTTP Request: PUT {url}{TR}/intels/7/labels "HTTP/1.1 200 OK"'
    assert (ours.msg, ours.levelno) == (httpx_own.msg, httpx_own.levelno)
