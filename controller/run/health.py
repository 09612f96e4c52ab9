"""The reconciler's HTTP face: `/metrics`, `/healthz` (the process answers), `/readyz` (a pass
has completed, and fewer than `--unready-after` passes failed in a row)."""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


class PassState(Protocol):
    @property
    def ready(self) -> bool: ...

    def readiness(self) -> str:
        """One line: why ready or not."""
        ...


def health_app(state: PassState) -> Starlette:
    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        return PlainTextResponse(state.readiness(), 200 if state.ready else 503)

    return Starlette(
        routes=[
            Route("/metrics", metrics),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )
