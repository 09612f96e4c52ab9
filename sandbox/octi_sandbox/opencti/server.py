"""A real HTTP server for tests: uvicorn on 127.0.0.1, a free port, a background thread.

```python
with serve(create_app()) as base_url:       # "http://127.0.0.1:54321"
    ...
with serve_opencti(OpenCTIConfig(seed="demo")) as (base_url, state):
    ...
```
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

from octi_sandbox.opencti.app import create_app
from octi_sandbox.opencti.config import OpenCTIConfig
from octi_sandbox.opencti.state import OpenCTIState


@contextmanager
def serve(
    app: Starlette, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 15.0
) -> Iterator[str]:
    """Serve `app` until the block ends; yields the base URL (no trailing slash)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="opencti-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the emulator did not start on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_opencti(config: OpenCTIConfig | None = None) -> Iterator[tuple[str, OpenCTIState]]:
    """A fresh emulator over real HTTP: (base URL, its state for in-process test hooks)."""
    app = create_app(config)
    with serve(app) as url:
        yield url, app.state.opencti
