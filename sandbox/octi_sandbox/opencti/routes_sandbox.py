"""Test routes under `/__sandbox/`: no auth, no faults, not counted. Bare JSON answers.

- `GET  /__sandbox/state[?objects=true]`: counts, clock, request counters, faults (and objects);
- `POST /__sandbox/reset` `{"seed": "empty"|"demo"}` (optional);
- `GET|POST|DELETE /__sandbox/faults`: POST one rule or `{"rules": [...], "seed": N,
  "replace": true}` (see `faults.py`);
- `POST /__sandbox/seed`: a STIX bundle / JSON list / stream events, or `{"demo": true}`;
- `POST /__sandbox/objects`: `{"op": "create-indicator"|"create-observable", ...fields}`,
  `{"op": "update", "id", "set": {...}}`, `{"op": "revoke"|"delete", "id"}`;
- `POST /__sandbox/clock`: `{"advance": "3d"|seconds, "set": ISO, "expire": true}`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from octi_sandbox.opencti.faults import FaultRule

PREFIX = "/__sandbox"


def _state(request: Request) -> Any:
    return request.app.state.opencti


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def state(request: Request) -> Response:
    objects = request.query_params.get("objects", "false").lower() == "true"
    return JSONResponse(_state(request).snapshot(objects))


async def reset(request: Request) -> Response:
    body = await _json(request)
    seed = body.get("seed") if isinstance(body, dict) else None
    if seed not in (None, "empty", "demo"):
        return _error("'seed' must be 'empty' or 'demo'")
    _state(request).reset(seed)
    return JSONResponse({"reset": True, "counts": _state(request).store.counts()})


async def faults(request: Request) -> Response:
    injector = _state(request).faults
    if request.method == "DELETE":
        injector.clear()
        return JSONResponse({"rules": []})
    if request.method == "POST":
        body = await _json(request)
        rules = body.get("rules", [body]) if isinstance(body, dict) else body
        try:
            parsed = [FaultRule.model_validate(r) for r in rules]
        except ValidationError as exc:
            return _error(f"invalid fault rule: {exc.errors(include_url=False)}")
        if not isinstance(body, dict) or body.get("replace", True):
            injector.clear(body.get("seed") if isinstance(body, dict) else None)
        for rule in parsed:
            injector.add(rule)
    return JSONResponse({"rules": injector.to_json()})


async def seed(request: Request) -> Response:
    state_ = _state(request)
    try:
        body = await _json(request)
        if isinstance(body, dict) and body.get("demo"):
            from octi_sandbox.opencti.state import seed_demo

            return JSONResponse(seed_demo(state_))
        return JSONResponse(state_.seed(body))
    except ValueError as exc:
        return _error(str(exc))


async def objects(request: Request) -> Response:
    state_ = _state(request)
    body = await _json(request)
    if not isinstance(body, dict):
        return _error("expected a JSON object with 'op'")
    op = body.pop("op", None)
    try:
        if op == "create-indicator":
            record = state_.create_indicator(**_dates(body))
        elif op == "create-observable":
            record = state_.create_observable(**body)
        elif op == "update":
            record = state_.update(str(body["id"]), **_dates(dict(body.get("set") or {})))
        elif op == "revoke":
            record = state_.revoke(str(body["id"]))
        elif op == "delete":
            return JSONResponse({"deleted": state_.delete(str(body["id"]))})
        else:
            return _error(
                "'op' must be create-indicator, create-observable, update, revoke or delete"
            )
    except KeyError as exc:
        return _error(f"no such object: {exc}", 404)
    except (TypeError, ValueError) as exc:
        return _error(str(exc))
    return JSONResponse({"id": record["id"], "standard_id": record["standard_id"]})


_DATE_FIELDS = ("valid_from", "valid_until", "created", "modified", "created_at", "updated_at")


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `30m`, `45s`, `2w` → timedelta (the clock route's `advance`)."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"invalid duration {text!r} (expected e.g. 30s, 15m, 12h, 90d, 2w)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _dates(fields: dict[str, Any]) -> dict[str, Any]:
    for key in _DATE_FIELDS:
        if isinstance(fields.get(key), str):
            fields[key] = datetime.fromisoformat(fields[key].replace("Z", "+00:00"))
    return fields


async def clock(request: Request) -> Response:
    state_ = _state(request)
    body = await _json(request)
    expire = bool(body.get("expire", True))
    revoked = 0
    try:
        if "set" in body:
            at = datetime.fromisoformat(str(body["set"]).replace("Z", "+00:00"))
            revoked += state_.set_time(at, expire=expire)
        if "advance" in body:
            value = body["advance"]
            delta = (
                timedelta(seconds=float(value))
                if isinstance(value, int | float)
                else parse_duration(str(value))
            )
            revoked += state_.advance(delta, expire=expire)
    except ValueError as exc:
        return _error(str(exc))
    return JSONResponse({"now": state_.clock.now().isoformat(), "revoked": revoked})


def sandbox_routes() -> list[Route]:
    return [
        Route(f"{PREFIX}/state", state, methods=["GET"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{PREFIX}/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route(f"{PREFIX}/seed", seed, methods=["POST"]),
        Route(f"{PREFIX}/objects", objects, methods=["POST"]),
        Route(f"{PREFIX}/clock", clock, methods=["POST"]),
    ]
