"""`python -m octi_sandbox`: both emulators on 127.0.0.1, with the lines to export.

`octi-tanium sandbox` runs this in a child process (the product never imports the emulators);
flags and output are that command's. Tokens are random per start; port 0 picks free ports
(the printed URLs carry the real ones).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import Sequence

import uvicorn
from starlette.types import ASGIApp

from octi_sandbox.opencti import OpenCTIConfig
from octi_sandbox.opencti import create_app as create_opencti
from octi_sandbox.server import bind, server, url_of
from octi_sandbox.tanium import ALL_PERMISSIONS, TaniumConfig
from octi_sandbox.tanium import create_app as create_tanium

SEEDS = ("demo", "empty")


def build_apps(seed: str, tanium_token: str, opencti_token: str) -> tuple[ASGIApp, ASGIApp]:
    tanium = create_tanium(TaniumConfig(tokens={tanium_token: set(ALL_PERMISSIONS)}, seed=seed))
    opencti = create_opencti(OpenCTIConfig(tokens=[opencti_token], seed=seed))
    return tanium, opencti


async def _exit_with_parent(parent: int, servers: Sequence[uvicorn.Server]) -> None:
    """Stop when the launching process is gone (killed without a chance to forward)."""
    while os.getppid() == parent:
        await asyncio.sleep(0.5)
    for s in servers:
        s.should_exit = True


async def _serve(tanium_port: int, opencti_port: int, seed: str, parent: int | None) -> None:
    tanium_token = "token-" + secrets.token_hex(16)
    opencti_token = secrets.token_hex(16)
    tanium_app, opencti_app = build_apps(seed, tanium_token, opencti_token)
    try:
        t_sock = bind("127.0.0.1", tanium_port)
        o_sock = bind("127.0.0.1", opencti_port)
    except OSError as exc:
        message = f"error: the sandbox could not start (is the port in use?): {exc}"
        raise SystemExit(message) from None
    servers = [server(tanium_app, t_sock), server(opencti_app, o_sock)]
    tasks = [asyncio.create_task(s.serve(sockets=[sock])) for s, sock in zip(
        servers, (t_sock, o_sock), strict=True)]  # fmt: skip
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            for t in tasks:
                if t.done() and t.exception():
                    raise SystemExit(f"error: the sandbox could not start: {t.exception()}")
            raise SystemExit("error: the sandbox could not start")
        await asyncio.sleep(0.02)
    lines = [
        f"TANIUM_URL={url_of(t_sock)}",
        f"TANIUM_TOKEN={tanium_token}",
        f"OPENCTI_URL={url_of(o_sock)}",
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
    watcher = None if parent is None else asyncio.create_task(_exit_with_parent(parent, servers))
    try:
        await asyncio.gather(*tasks)
    finally:
        if watcher is not None:
            watcher.cancel()
        t_sock.close()
        o_sock.close()


def serve(*, tanium_port: int, opencti_port: int, seed: str, parent: int | None = None) -> None:
    """Serve until interrupted; with `parent` (a process id), also stop once that process is
    gone (the launching `octi-tanium sandbox` was killed without a chance to forward)."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(tanium_port, opencti_port, seed, parent))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m octi_sandbox",
        description="Serve the Tanium and OpenCTI emulators on 127.0.0.1 (Ctrl-C to stop).",
    )
    parser.add_argument("--tanium-port", type=int, default=8411)
    parser.add_argument("--opencti-port", type=int, default=8412)
    parser.add_argument("--seed", choices=SEEDS, default="demo")
    parser.add_argument("--exit-with-parent", type=int, metavar="PID", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    serve(
        tanium_port=args.tanium_port,
        opencti_port=args.opencti_port,
        seed=args.seed,
        parent=args.exit_with_parent,
    )


if __name__ == "__main__":
    main()
