"""Routing: route tables of the handler modules, and `Endpoint`, the ASGI app running one handler.

`Endpoint` reads the body, counts the call, checks the `session` token and permission, runs the
handler under the state lock, wraps the payload in `{"data": ..., "meta": ...}` (bare on detect3
routes) and sends it with `Content-Type: application/json` exactly (or with `; charset=utf-8`
when configured).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send

from .web import (
    Access,
    ApiError,
    Ctx,
    Reply,
    authorize,
    content_type,
    json_bytes,
    not_found,
    read_body,
    send_raw,
)

if TYPE_CHECKING:
    from .emulator import TaniumEmulator

Handler = Callable[[Ctx], Reply]


class Endpoint:
    """An ASGI app running one handler. `detect3`: only when the switch is on, bare payloads."""

    def __init__(
        self,
        emulator: TaniumEmulator,
        template: str,
        handler: Handler,
        access: Access,
        *,
        detect3: bool = False,
        counted: bool = True,
    ) -> None:
        self.emulator = emulator
        self.template = template
        self.handler = handler
        self.access = access
        self.detect3 = detect3
        self.counted = counted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        emulator = self.emulator
        ctx = Ctx(emulator, scope, body)
        with emulator.state.lock:
            if self.counted:
                emulator.state.counters.requests[f"{ctx.method} {self.template}"] += 1
            try:
                if self.detect3 and not emulator.config.detect3_routes:
                    raise not_found()
                if not _slash_allowed(emulator.config.trailing_slash, self.template, scope):
                    raise not_found()
                authorize(ctx, self.access)
                reply = self.handler(ctx)
            except ApiError as exc:
                reply = Reply(exc.body(), exc.status, envelope=False, headers=exc.headers)
            config = emulator.config
        if reply.raw is not None:
            await send_raw(send, reply.status, reply.raw, reply.media_type, reply.headers)
            return
        payload: Any = reply.payload
        if reply.envelope and not self.detect3:
            payload = {"data": reply.payload}
            if reply.meta is not None:
                payload["meta"] = reply.meta
        await send_raw(send, reply.status, json_bytes(payload), content_type(config), reply.headers)


TR = "/plugin/products/threat-response/api/v1"
SLASH_SWITCHED = frozenset({TR + "/intels"})
"""The routes switch `trailing_slash` governs: the intel collection public clients call as
`intels/`."""


def _slash_allowed(mode: str, template: str, scope: Scope) -> bool:
    if mode == "either" or template not in SLASH_SWITCHED:
        return True
    slashed = str(scope["path"]).endswith("/")
    return slashed if mode == "required" else not slashed


D3 = "/plugin/products/detect3/api/v1"
REP = "/plugin/products/reputation/v3/reputations/custom"


@dataclass(frozen=True)
class RouteSpec:
    path: str
    methods: tuple[str, ...]
    handler: Handler
    access: Access
    detect3: bool
    """A Threat Response route: also served under the detect3 prefix when switched on."""


class RouteTable:
    """Collects the routes of one module: `@table.route(TR + "/labels", "GET")`."""

    def __init__(self) -> None:
        self.specs: list[RouteSpec] = []

    def route(
        self, path: str, *methods: str, access: Access = "token"
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            spec = RouteSpec(path, methods, handler, access, path.startswith(TR))
            self.specs.append(spec)
            return handler

        return register
