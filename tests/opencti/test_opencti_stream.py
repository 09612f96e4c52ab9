"""The OpenCTI emulator's live stream over real HTTP: SSE frames, auth, 410, resume, recover,
retention — and every change made through the API is an event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import DEFAULT_TOKEN, OpenCTIConfig, create_app
from octi_sandbox.server import serve_in_thread

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


@pytest.fixture
def emulator() -> Iterator[tuple[str, Any]]:
    app = create_app(OpenCTIConfig(stream_heartbeat=0.2, stream_retention=5))
    with serve_in_thread(app) as url:
        yield url, app.state.opencti


def frames(url: str, want: int, headers: dict[str, str] | None = None, **params: str) -> list:
    """The first `want` frames other than heartbeats: (id, event, data)."""
    out: list[tuple[str | None, str, Any]] = []
    frame: dict[str, str] = {}
    with httpx.stream(
        "GET", url, headers={**AUTH, **(headers or {})}, params=params, timeout=10
    ) as reply:
        assert reply.status_code == 200, reply.read()
        assert reply.headers["content-type"].startswith("text/event-stream")
        for line in reply.iter_lines():
            if line:
                name, _, value = line.partition(": ")
                frame[name] = value
                continue
            if frame.get("event") not in (None, "heartbeat"):
                out.append((frame.get("id"), frame["event"], json.loads(frame["data"])))
                if len(out) == want:
                    return out
            frame = {}
    return out


def create(url: str, value: str) -> dict[str, Any]:
    body = {"op": "create-indicator", "pattern": f"[ipv4-addr:value = '{value}']", "name": value}
    reply = httpx.post(f"{url}/__sandbox/objects", json=body)
    reply.raise_for_status()
    return dict(reply.json())


def test_changes_are_events_and_last_event_id_resumes_after_them(emulator) -> None:  # type: ignore[no-untyped-def]
    url, _ = emulator
    first = create(url, "10.0.0.1")
    httpx.post(f"{url}/__sandbox/objects", json={"op": "revoke", "id": first["id"]})
    got = frames(f"{url}/stream/octi-tanium", 3, {"Last-Event-ID": "0-0"})
    assert [event for _, event, _ in got] == ["connected", "create", "update"]
    _, _, created = got[1]
    assert created["version"] == "4" and created["data"]["id"] == first["standard_id"]
    assert created["data"]["pattern"] == "[ipv4-addr:value = '10.0.0.1']"
    assert got[2][2]["data"]["revoked"] is True
    httpx.post(f"{url}/__sandbox/objects", json={"op": "delete", "id": first["id"]})
    resumed = frames(f"{url}/stream/octi-tanium", 2, {"Last-Event-ID": str(got[2][0])})
    assert [event for _, event, _ in resumed] == ["connected", "delete"]
    assert resumed[1][2]["context"]["deletions"][0]["id"] == first["standard_id"]


def test_trimmed_events_are_gone_and_recover_replays_the_state(emulator) -> None:  # type: ignore[no-untyped-def]
    url, _ = emulator
    made = [create(url, f"10.0.1.{i}") for i in range(8)]  # retention is 5
    kept = frames(f"{url}/stream", 6, {"Last-Event-ID": "0-0"})
    assert [data["data"]["id"] for _, _, data in kept[1:]] == [m["standard_id"] for m in made[3:]]
    recovered = frames(f"{url}/stream", 9, **{"from": "0", "recover": "2100-01-01T00:00:00Z"})
    assert {d["data"]["id"] for _, _, d in recovered[1:]} == {m["standard_id"] for m in made}
    assert all(d["origin"]["referer"] == "init-create" for _, _, d in recovered[1:])


def test_live_only_without_a_position_and_heartbeats_flow(emulator) -> None:  # type: ignore[no-untyped-def]
    url, _ = emulator
    create(url, "10.0.2.1")
    seen: list[str] = []
    with httpx.stream("GET", f"{url}/stream", headers=AUTH, timeout=10) as reply:
        for line in reply.iter_lines():
            if line.startswith("event: "):
                seen.append(line.removeprefix("event: "))
                if "heartbeat" in seen:
                    break
    assert seen[0] == "connected" and "create" not in seen


def test_stream_refuses_without_token_unknown_stream_and_when_stopped() -> None:
    with serve_in_thread(create_app()) as url:
        assert httpx.get(f"{url}/stream").status_code == 401
        assert httpx.get(f"{url}/stream/nope", headers=AUTH).status_code == 404
        bad = httpx.get(f"{url}/stream", headers=AUTH, params={"recover": "2020-01-01T00:00:00Z"})
        assert bad.status_code == 400
    with serve_in_thread(create_app(OpenCTIConfig(stream_live=False))) as url:
        assert httpx.get(f"{url}/stream/octi-tanium", headers=AUTH).status_code == 410
