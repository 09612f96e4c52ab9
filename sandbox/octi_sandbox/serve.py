"""`octi-tanium sandbox`: both emulators on 127.0.0.1, with the lines to export.

Tokens are random per start; port 0 picks free ports (the printed URLs carry the real ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
from typing import Any

import uvicorn


def _bound_port(server: uvicorn.Server) -> int:
    for srv in server.servers:
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    raise RuntimeError("server did not bind")


def build_apps(seed: str, tanium_token: str, opencti_token: str) -> tuple[Any, Any]:
    from octi_sandbox.opencti import OpenCTIConfig
    from octi_sandbox.opencti import create_app as create_opencti
    from octi_sandbox.tanium import TaniumConfig
    from octi_sandbox.tanium import create_app as create_tanium
    from octi_sandbox.tanium.config import ALL_PERMISSIONS

    tanium = create_tanium(TaniumConfig(tokens={tanium_token: set(ALL_PERMISSIONS)}, seed=seed))
    opencti = create_opencti(OpenCTIConfig(tokens=[opencti_token], seed=seed))
    return tanium, opencti


async def _serve(tanium_port: int, opencti_port: int, seed: str) -> None:
    tanium_token = "token-" + secrets.token_hex(16)
    opencti_token = secrets.token_hex(16)
    tanium_app, opencti_app = build_apps(seed, tanium_token, opencti_token)
    servers = [
        uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        for app, port in ((tanium_app, tanium_port), (opencti_app, opencti_port))
    ]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            for t in tasks:
                if t.done() and t.exception():
                    raise SystemExit(f"error: the sandbox could not start: {t.exception()}")
            raise SystemExit("error: the sandbox could not start (is the port in use?)")
        await asyncio.sleep(0.02)
    t_port, o_port = (_bound_port(s) for s in servers)
    lines = [
        f"TANIUM_URL=http://127.0.0.1:{t_port}",
        f"TANIUM_TOKEN={tanium_token}",
        f"OPENCTI_URL=http://127.0.0.1:{o_port}",
        f"OPENCTI_TOKEN={opencti_token}",
    ]
    print("\n".join(lines), flush=True)
    print(
        f"# sandbox ready (seed: {seed}); in another shell, export the lines above:\n"
        "#   export TANIUM_URL=... TANIUM_TOKEN=... OPENCTI_URL=... OPENCTI_TOKEN=...\n"
        "# test routes: GET /__sandbox/state, POST /__sandbox/reset, POST /__sandbox/faults\n"
        "# Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )
    await asyncio.gather(*tasks)


def serve(*, tanium_port: int, opencti_port: int, seed: str) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(tanium_port, opencti_port, seed))
