"""Serving the emulators over real HTTP with uvicorn: the one helper both emulators use.

```python
with serve_in_thread(create_app()) as base_url:      # "http://127.0.0.1:54321"
    httpx.get(base_url + "/api/v2/session/current", headers={"session": DEFAULT_TOKEN})
```

`serve` runs one app in the foreground (benchmarks); `octi_sandbox.__main__` runs both on
one event loop with `bind` and `server`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (0: a free port), bound before uvicorn starts so the
    real port is known at once."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and accepted sockets inherit it (without, each answer waits ~40 ms for delayed ACKs).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


def server(app: ASGIApp, sock: socket.socket, *, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for `app` on an already bound socket (`server.run(sockets=[sock])`)."""
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    startup_timeout: float = 15.0,
) -> Iterator[str]:
    """Serve `app` on `host:port` (0: a free port) in a daemon thread; yield the base URL."""
    sock = bind(host, port)
    uv = server(app, sock, log_level=log_level)
    name = f"emulator:{sock.getsockname()[1]}"
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            uv.should_exit = True
            sock.close()
            raise RuntimeError(f"the emulator did not start on {url_of(sock)}")
        time.sleep(0.005)
    try:
        yield url_of(sock)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve `app` in the foreground until interrupted. `port` 0 picks a free port;
    `on_ready` receives the base URL once the socket is bound."""
    sock = bind(host, port)
    if on_ready is not None:
        on_ready(url_of(sock))
    try:
        server(app, sock, log_level=log_level).run(sockets=[sock])
    finally:
        sock.close()
