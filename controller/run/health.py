"""The reconciler's HTTP face: `/metrics`, `/healthz`, `/readyz`."""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


class PassState(Protocol):
    ready: bool
    """True once a first pass has completed, whatever its outcome (the outcome is a metric)."""
    last_code: int | None


def health_app(state: PassState) -> Starlette:
    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        if state.ready:
            return PlainTextResponse(f"ready (last pass exit code {state.last_code})")
        return PlainTextResponse("starting: the first pass has not completed", 503)

    return Starlette(
        routes=[
            Route("/metrics", metrics),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )
