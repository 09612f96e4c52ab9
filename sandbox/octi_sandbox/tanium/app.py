"""The ASGI application: every route table mounted, faults applied before routing."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from octi_sandbox.faults import discard, replay, sleep

from . import (
    quickadd,
    reputation,
    routes_alerts,
    routes_intel,
    routes_labels,
    routes_platform,
    routes_sandbox,
)
from .config import TaniumConfig
from .emulator import TaniumEmulator
from .faults import apply_fault
from .routing import D3, TR, Endpoint, RouteSpec
from .web import content_type, json_bytes, read_body

TABLES = (
    routes_intel.table,
    routes_labels.table,
    quickadd.table,
    routes_platform.table,
    routes_alerts.table,
    reputation.table,
    routes_sandbox.table,
)


class TaniumApp(Starlette):
    """Starlette plus fault injection ahead of routing (it needs the server's raw `send`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(routes_sandbox.ALIASES):
            emulator: TaniumEmulator = self.state.tanium
            with emulator.state.lock:
                delay, rule = emulator.faults.decide(scope["method"], scope["path"])
            await sleep(delay)
            if rule is not None and rule.phase == "after":
                body = await read_body(receive)
                await super().__call__(scope, replay(body), discard)
                await apply_fault(rule, scope, replay(b""), send)
                return
            if rule is not None:
                await apply_fault(rule, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def _paths(path: str) -> list[str]:
    return [path, path.rstrip("/") + "/"] if not path.endswith("/") else [path, path.rstrip("/")]


def _routes(emulator: TaniumEmulator, spec: RouteSpec) -> list[BaseRoute]:
    methods = list(spec.methods)
    variants: list[tuple[str, bool]] = [(spec.path, spec.path.startswith(D3))]
    if spec.path.startswith(TR):
        variants.append((D3 + spec.path[len(TR) :], True))
    if spec.path.startswith(routes_sandbox.SANDBOX):
        variants += [
            (alias + spec.path[len(routes_sandbox.SANDBOX) :], False)
            for alias in routes_sandbox.ALIASES[1:]
        ]
    sandbox = spec.access == "public" and spec.path.startswith(routes_sandbox.SANDBOX)
    routes: list[BaseRoute] = []
    for path, detect3 in variants:
        endpoint = Endpoint(
            emulator, spec.path, spec.handler, spec.access, detect3=detect3, counted=not sandbox
        )
        routes += [Route(p, endpoint, methods=methods) for p in _paths(path)]
    return routes


def create_app(
    config: TaniumConfig | None = None, *, emulator: TaniumEmulator | None = None
) -> Starlette:
    """The Tanium emulator as an ASGI app; its emulator is `app.state.tanium`."""
    emulator = emulator or TaniumEmulator(config)
    routes = [
        route for table in TABLES for spec in table.specs for route in _routes(emulator, spec)
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        text = (
            "not found"
            if status == 404
            else (exc.detail if isinstance(exc, HTTPException) else "error")
        )
        body = json_bytes({"text": text})
        return Response(body, status, media_type=content_type(emulator.config))

    app = TaniumApp(routes=routes, exception_handlers={404: http_error, 405: http_error})
    app.router.redirect_slashes = False
    app.state.tanium = emulator
    return app
