"""`GET /stream` (raw, BYPASS) and `GET /stream/<id>` (a live stream, TAXIIAPI): SSE (§9).

- 401 without a token that may read the stream; 404 for an unknown live stream; 410 when the
  stream is stopped (`stream_live=false`).
- Frames: `id: <ms>-<seq>`, `event: <topic>`, `data: <json>`; first `connected`, then the
  events, a `heartbeat` every `stream_heartbeat` seconds.
- Resume: `from` (query or header) or `Last-Event-ID` — an event id, or a time in ms — replays
  the kept events after it (trimmed ones are gone, as with Redis). `recover=<ISO date>` (query,
  or header `recover` / `recover-date`; needs `from`) first sends the current state of every
  entity updated between `from` and `recover` as `create` events with
  `origin.referer = "init-create"`, then the live events. Without any of them: live only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from octi_sandbox.opencti.events import Event, parse_id, stix_of
from octi_sandbox.opencti.state import OpenCTIState

POLL_SECONDS = 0.02


def _frame(event_id: str | None, topic: str, data: object) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {topic}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _param(request: Request, *names: str) -> str | None:
    for name in names:
        value = request.query_params.get(name) or request.headers.get(name)
        if value:
            return value
    return None


def _recover_date(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def stream(request: Request) -> Response:
    state = request.app.state.opencti
    assert isinstance(state, OpenCTIState)
    config = state.config
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    capabilities = config.capabilities_of(token.strip()) if scheme.lower() == "bearer" else None
    stream_id = request.path_params.get("stream_id")
    needed = "BYPASS" if stream_id in (None, "live") else "TAXIIAPI"
    if capabilities is None or not ("BYPASS" in capabilities or needed in capabilities):
        return JSONResponse({"name": "AUTH_REQUIRED", "message": "not allowed"}, status_code=401)
    if stream_id not in (None, "live") and stream_id not in config.stream_ids:
        return JSONResponse({"message": f"stream {stream_id} not found"}, status_code=404)
    if not config.stream_live:
        return JSONResponse({"message": "live stream is disabled"}, status_code=410)
    start = _param(request, "from", "last-event-id")
    recover = _param(request, "recover", "recover-date")
    position = parse_id(start) if start else None
    if start and position is None:
        return JSONResponse({"message": f"invalid from {start!r}"}, status_code=400)
    until = _recover_date(recover) if recover else None
    if recover and (until is None or position is None):
        return JSONResponse({"message": "recover needs a valid date and from"}, status_code=400)
    state.requests["total"] += 1
    state.requests["stream:connect"] += 1
    return StreamingResponse(
        _frames(request, state, position, until), media_type="text/event-stream"
    )


async def _frames(
    request: Request, state: OpenCTIState, position: tuple[int, int] | None, until: datetime | None
) -> AsyncIterator[bytes]:
    log = state.events
    yield _frame(None, "connected", {"connectionId": id(request), "version": state.config.version})
    if until is not None and position is not None:
        since = datetime.fromtimestamp(position[0] / 1000, UTC)
        head = log.head
        for record in sorted(state.store.entities.values(), key=lambda r: r["updated_at"]):
            if since <= record["updated_at"] <= until:
                body = {"version": "4", "type": "create", "scope": "external",
                        "data": stix_of(record), "message": "init",
                        "origin": {"referer": "init-create"}, "context": {}}  # fmt: skip
                yield _frame(f"{head[0]}-{head[1]}", "create", body)
        position = head
    elif position is None:
        position = log.head
    loop = asyncio.get_running_loop()
    beat = loop.time() + state.config.stream_heartbeat
    while not await request.is_disconnected():
        fresh: list[Event] = log.after(position)
        for event in fresh:
            yield _frame(event.id, event.topic, event.data)
        if fresh:
            position = parse_id(fresh[-1].id) or position
        if loop.time() >= beat:
            beat = loop.time() + state.config.stream_heartbeat
            yield _frame(None, "heartbeat", {"time": datetime.now(UTC).isoformat()})
        await asyncio.sleep(POLL_SECONDS)


def stream_routes() -> list[Route]:
    return [
        Route("/stream", stream, methods=["GET"]),
        Route("/stream/{stream_id}", stream, methods=["GET"]),
    ]
