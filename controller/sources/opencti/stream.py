"""OpenCTI's live stream as a source of *hints*: which events happened, never what to write.

`StreamListener.run()` holds an SSE connection to `{OPENCTI_URL}/stream/<OPENCTI_STREAM_ID>`
(or the raw `/stream`, which needs BYPASS) and hands every `create` / `update` / `delete` /
`merge` event to a callback as a `StreamEvent` (topic, OpenCTI entity type, standard id). The
reconciler turns relevant ones into a debounced full-state pass (`controller/run/trigger.py`).

- Resume: the last event id is kept in `$OCTI_TANIUM_STATE_DIR/opencti-stream-<name>.cursor`
  (atomic replace) and sent as `Last-Event-ID` on reconnect. An id the server has trimmed
  cannot tell us what we missed, so every (re)connection is itself a hint: the pass it
  triggers compares the whole state, and nothing is lost however long the stream was down.
- Heartbeats: OpenCTI sends one every 5 s; no byte for `heartbeat_timeout` seconds means a
  dead connection, which is dropped and reopened.
- Reconnect with full-jitter exponential backoff (1 s doubling to 60 s); 401/403/404/410 are
  retried at the longest delay (a stream stopped or not allowed may come back). `up` says
  whether a connection is open (the `octi_tanium_stream_up` metric).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from controller.sources.opencti.settings import OpenCTISettings
from controller.sources.stix import OPENCTI_EXT as OPENCTI_EXTENSION
from controller.sources.stix import STIX_TO_ENTITY

log = logging.getLogger("octi_tanium.stream")

TOPICS = frozenset({"create", "update", "delete", "merge"})
CURSOR_EVERY = 1.0
"""Seconds between cursor writes while events flow (and on every disconnection)."""
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class StreamEvent:
    id: str | None
    topic: str
    """`create`, `update`, `delete`, `merge`; `connected` for a (re)connection."""
    entity_type: str = ""
    """OpenCTI's entity type (`Indicator`, `IPv4-Addr`...), empty when unknown."""
    standard_id: str = ""
    gone: tuple[str, ...] = ()
    """Internal ids that no longer exist: a `delete`'s object, a `merge`'s sources (hints for
    the incremental fetch, `controller/sources/opencti/incremental.py`)."""


def _internal_ids(objects: Any) -> tuple[str, ...]:
    out: list[str] = []
    for stix in objects if isinstance(objects, list) else ():
        extension = ((stix or {}).get("extensions") or {}).get(OPENCTI_EXTENSION) or {}
        if isinstance(extension.get("id"), str):
            out.append(extension["id"])
    return tuple(out)


def parse_event(event_id: str | None, topic: str, data: str) -> StreamEvent | None:
    """A knowledge event of the stream, or None (heartbeats, metrics, malformed data)."""
    if topic not in TOPICS:
        return None
    try:
        body = json.loads(data)
        stix = body["data"]
        extension = (stix.get("extensions") or {}).get(OPENCTI_EXTENSION) or {}
        entity_type = str(extension.get("type") or STIX_TO_ENTITY.get(str(stix.get("type")), ""))
        gone: tuple[str, ...] = ()
        if topic == "delete":
            gone = _internal_ids([stix])
        elif topic == "merge":
            gone = _internal_ids((body.get("context") or {}).get("sources"))
        return StreamEvent(event_id, topic, entity_type, str(stix.get("id") or ""), gone)
    except (ValueError, KeyError, TypeError, AttributeError):
        return StreamEvent(event_id, topic)  # unreadable but real: still a hint


def cursor_path(stream_id: str | None) -> Path:
    base = os.environ.get("OCTI_TANIUM_STATE_DIR")
    if base:
        root = Path(base)
    else:
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        root = Path(state) / "octi-tanium"
    name = _SAFE_NAME.sub("_", stream_id) if stream_id else "raw"
    return root / f"opencti-stream-{name}.cursor"


class StreamListener:
    def __init__(
        self,
        settings: OpenCTISettings,
        stream_id: str | None,
        on_event: Callable[[StreamEvent], Awaitable[None] | None],
        *,
        cursor: Path | None = None,
        heartbeat_timeout: float = 30.0,
        backoff: tuple[float, float] = (1.0, 60.0),
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.path = f"/stream/{stream_id}" if stream_id else "/stream"
        self.on_event = on_event
        self.cursor = cursor or cursor_path(stream_id)
        self.heartbeat_timeout = heartbeat_timeout
        self.backoff = backoff
        self.transport = transport
        self.rng = rng or random.Random()
        self.up = False
        self.connections = 0
        self.last_id = self._read_cursor()
        self._saved = 0.0

    def _read_cursor(self) -> str | None:
        try:
            text = self.cursor.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return text if re.fullmatch(r"\d+(-\d+)?", text) else None  # corrupt: start live

    def save_cursor(self) -> None:
        self._saved = time.monotonic()
        if self.last_id is None:
            return
        self.cursor.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cursor.with_suffix(".tmp")
        tmp.write_text(self.last_id + "\n", encoding="utf-8")
        os.replace(tmp, self.cursor)

    async def run(self) -> None:
        """Listen until cancelled; never raises for a remote failure."""
        attempt = 0
        while True:
            try:
                status = await self._listen()
            except (httpx.HTTPError, OSError) as exc:
                status = None
                log.warning("OpenCTI stream %s: connection lost (%s)", self.path, exc)
            except Exception:  # a bug must not silence the stream for good: log, reconnect
                status = None
                log.exception("OpenCTI stream %s: unexpected error", self.path)
            finally:
                self.up = False
                self.save_cursor()
            if status in (401, 403, 404, 410):
                delay = self.backoff[1]
                log.warning(
                    "OpenCTI stream %s answered %s (%s); scheduled passes go on, retrying in "
                    "%.0f s",
                    self.path,
                    status,
                    {401: "not allowed: the token needs BYPASS for the raw stream, TAXIIAPI "
                     "for a live stream", 403: "forbidden", 404: "no such stream: check "
                     "OPENCTI_STREAM_ID", 410: "the stream is stopped on the server"}[status],
                    delay,
                )  # fmt: skip
            else:
                attempt = 0 if status == 200 else attempt + 1
                delay = self.rng.uniform(0, min(self.backoff[1], self.backoff[0] * 2**attempt))
            await asyncio.sleep(delay)

    async def _listen(self) -> int:
        headers = {
            "Authorization": f"Bearer {self.settings.token.get_secret_value()}",
            "Accept": "text/event-stream",
        }
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        timeout = httpx.Timeout(self.settings.timeout, read=self.heartbeat_timeout)
        async with (
            httpx.AsyncClient(
                base_url=self.settings.url,
                verify=self.settings.verify(),
                timeout=timeout,
                transport=self.transport,
                follow_redirects=False,
            ) as http,
            http.stream("GET", self.path, headers=headers) as reply,
        ):
            if reply.status_code != 200:
                return reply.status_code
            self.up = True
            self.connections += 1
            log.info("OpenCTI stream %s: connected (from %s)", self.path, self.last_id or "now")
            await self._deliver(StreamEvent(None, "connected"))
            await self._read(reply)
        return 200

    async def _read(self, reply: httpx.Response) -> None:
        event_id: str | None = None
        topic = "message"
        data: list[str] = []
        async for line in reply.aiter_lines():
            if line:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "id":
                    event_id = value
                elif name == "event":
                    topic = value
                elif name == "data":
                    data.append(value)
                continue
            event = parse_event(event_id, topic, "\n".join(data))
            if event_id:
                self.last_id = event_id
                if time.monotonic() - self._saved > CURSOR_EVERY:  # a kill loses at most that
                    self.save_cursor()
            if event is not None:
                await self._deliver(event)
            event_id, topic, data = None, "message", []

    async def _deliver(self, event: StreamEvent) -> None:
        result = self.on_event(event)
        if result is not None:
            await result
