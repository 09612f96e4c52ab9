"""The HTTP face of the OpenCTI emulator: `POST /graphql` as OpenCTI serves it (§2, §12).

- `/graphql` takes POST (JSON `{query, variables, operationName}`) and OPTIONS; any other
  method → 405 `{name: "MethodNotAllowedError", message}`; no JSON-array batching;
- `Authorization: Bearer <token>` from the configured set; without it every field answers
  `AUTH_REQUIRED` — with HTTP 200, like every GraphQL error;
- faults (see `faults.py`) and the optional rate limit apply before execution;
- `GET /health` → 200; test routes under `/__sandbox/` (never faulted, never counted).
"""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from octi_sandbox.faults import ConnectionResetByFault, drop_connection, retry_after
from octi_sandbox.opencti.config import OpenCTIConfig
from octi_sandbox.opencti.context import Context, User
from octi_sandbox.opencti.errors import format_error, octi_error
from octi_sandbox.opencti.faults import FaultRule
from octi_sandbox.opencti.routes_sandbox import sandbox_routes
from octi_sandbox.opencti.routes_stream import stream_routes
from octi_sandbox.opencti.state import OpenCTIState

RAW_SEND = "octi.raw_send"
TOO_MANY = {"message": "Too many requests, please try again later."}


class OpenCTIApp(Starlette):
    """Starlette, keeping the server's own `send` at hand so a fault can reset the socket."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def _state(request: Request) -> OpenCTIState:
    state = request.app.state.opencti
    assert isinstance(state, OpenCTIState)
    return state


def _user(request: Request, config: OpenCTIConfig) -> User | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    capabilities = config.capabilities_of(token.strip())
    return None if capabilities is None else User(f"token-{len(token)}", capabilities)


def _bad_request(message: str) -> JSONResponse:
    error = {"message": message, "extensions": {"code": "BAD_REQUEST"}, "name": "BAD_REQUEST"}
    return JSONResponse({"errors": [error]}, status_code=400)


async def graphql(request: Request) -> Response:
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": "POST, OPTIONS"})
    if request.method != "POST":
        message = f"{request.method} is not allowed on /graphql: use POST"
        return JSONResponse({"name": "MethodNotAllowedError", "message": message}, status_code=405)
    state = _state(request)
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _bad_request("POST body sent invalid JSON.")
    if isinstance(body, list):
        return _bad_request("Operation batching disabled.")
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str) or not query.strip():
        return _bad_request("GraphQL operations must contain a non-empty `query`.")
    name = body.get("operationName") if isinstance(body.get("operationName"), str) else None
    prepared = state.executor.prepare(query, name)
    fields = prepared.root_fields
    state.count(name, fields)
    delay, rule = state.faults.decide(name, fields, prepared.kind)
    delay += state.config.latency_ms / 1000.0
    if delay > 0:
        await asyncio.sleep(delay)
    if rule is not None:
        return await _fault(request, rule, fields)
    if state.rate_limited():
        return JSONResponse(TOO_MANY, status_code=429, headers={"Retry-After": "1"})
    context = Context(state.store, state.lister, state.config, _user(request, state.config))
    reply = state.executor.run(prepared, body.get("variables"), context)
    for error in reply.get("errors") or ():
        state.requests[f"error:{error['name']}"] += 1
    return Response(json.dumps(reply, separators=(",", ":")), media_type="application/json")


async def _fault(request: Request, rule: FaultRule, fields: list[str]) -> Response:
    if rule.kind == "rate_limit":
        headers = {} if rule.retry_after is None else {"Retry-After": retry_after(rule.retry_after)}
        return JSONResponse(TOO_MANY, status_code=429, headers=headers)
    if rule.kind == "status":
        page = f"<html><body><h1>{rule.status} Bad Gateway</h1>injected</body></html>"
        headers = (
            {}
            if rule.retry_after is None or rule.status != 503
            else {"Retry-After": retry_after(rule.retry_after)}
        )
        return Response(page, status_code=rule.status, media_type="text/html", headers=headers)
    if rule.kind == "timeout":
        waited = 0.0
        while waited < rule.hold_seconds and not await request.is_disconnected():
            await asyncio.sleep(0.05)
            waited += 0.05
        return Response("gateway timeout", status_code=504)
    if rule.kind == "reset":
        if not drop_connection(request.scope[RAW_SEND], reset=True):
            raise ConnectionResetByFault("fault: connection reset by the OpenCTI emulator")
        return Response(status_code=204)  # never reaches the client: the socket is gone
    code = "LOCK_ERROR" if rule.kind == "lock_error" else rule.code
    error = format_error(octi_error(code, rule.message))
    data = {field: None for field in fields} or None
    return JSONResponse({"data": data, "errors": [error]})


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(config: OpenCTIConfig | None = None) -> Starlette:
    """An OpenCTI emulator; its state (store, clock, faults, hooks) is `app.state.opencti`."""
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = OpenCTIApp(
        routes=[
            Route("/graphql", graphql, methods=methods),
            Route("/health", health, methods=["GET"]),
            *sandbox_routes(),
            *stream_routes(),  # the live stream (SSE), fed by the store's changes
        ]
    )
    app.state.opencti = OpenCTIState(config)
    return app
