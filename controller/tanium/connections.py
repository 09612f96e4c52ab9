"""The network streams under the Tanium client's connection pool: two per-request costs cut.

httpx's pool (httpcore) does two things per request that cost more client CPU than the rest of
an apply's request together, measured with `bench/bench_apply.py --profile` (and reads a reply
64 KiB at a time: see `READ_SIZE`):

- Before it hands out a connection, it asks every pooled connection whether the server closed
  it (`get_extra_info("is_readable")`); the stream answers by rebuilding all of its socket's
  attributes (a dict of lambdas, a `getpeername` call) to find the raw socket, for each of the
  pool's connections, on every request and every release. Here the raw socket is looked up once
  per connection.
- It writes a request's head and its body in two sends (two system calls, two wake-ups of the
  server). Here writes are held until the stream is read — an HTTP/1.1 client always reads the
  reply after writing the request — and go out in one send (up to `COALESCE` bytes; larger
  bodies are written as they come). A failing send then fails the read that flushes it, as a
  write error: the request may or may not have reached the server, which is how the transport
  treats every failure after the connection was made (`maybe_applied`).

Nothing else changes: the same backend connects (TCP, Unix sockets, proxies, TLS), with the
same timeouts and errors.
"""

from __future__ import annotations

import select
import socket
import ssl
import sys
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

COALESCE = 64 * 1024
"""Writes held until the next read, at most this many bytes (beyond, they are sent)."""
READ_SIZE = 1024 * 1024
"""A read returns what has arrived, up to this many bytes. httpcore asks for 64 KiB at a
time; a listing page of 500 documents is about 280 KB, and each smaller read is one more turn
of the event loop and of h11's parser: a warm `run` pass's Tanium read (pages reused, 125,000
objects) costs ~15 % less client CPU with 1 MiB reads."""

SocketOption = Any
"""httpcore's `SOCKET_OPTION` (passed through as is)."""


def tune(transport: httpx.AsyncBaseTransport) -> bool:
    """Put the streams of this module under `transport`'s connection pool (an
    `httpx.AsyncHTTPTransport`, direct or through a proxy); False (nothing changed) for any
    other transport, e.g. a test's `MockTransport`."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or backend is None:
        return False
    if not isinstance(backend, Backend):
        pool._network_backend = Backend(backend)
    return True


def readable(sock: socket.socket | None) -> bool:
    """Whether a read would return at once (data, or the `b""` of a closed connection): what
    httpcore asks before reusing an idle connection. No socket counts as closed."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):  # pragma: no cover
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class Stream(httpcore.AsyncNetworkStream):
    """A connection's stream: its raw socket looked up once, writes sent with the next read."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self.inner = inner
        self.socket: socket.socket | None = inner.get_extra_info("socket")
        self.held: list[bytes] = []
        self.held_size = 0
        self.write_timeout: float | None = None

    async def flush(self) -> None:
        if self.held:
            data = b"".join(self.held) if len(self.held) > 1 else self.held[0]
            self.held, self.held_size = [], 0
            await self.inner.write(data, self.write_timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self.flush()
        return await self.inner.read(max(max_bytes, READ_SIZE), timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self.held_size + len(buffer) > COALESCE:
            await self.flush()
            await self.inner.write(buffer, timeout)
            return
        self.held.append(buffer)
        self.held_size += len(buffer)
        self.write_timeout = timeout

    async def aclose(self) -> None:
        self.held, self.held_size = [], 0
        await self.inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        await self.flush()
        return Stream(await self.inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return readable(self.socket)
        if info == "socket":
            return self.socket
        return self.inner.get_extra_info(info)


class Backend(httpcore.AsyncNetworkBackend):
    """Connects with the pool's own backend; wraps each stream in a `Stream`."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return Stream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return Stream(await self.inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
