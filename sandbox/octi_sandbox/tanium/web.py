"""The HTTP vocabulary shared by all routes: errors, replies, the request context, auth.

Handlers are plain functions `(Ctx) -> Reply`; `routing.Endpoint` runs them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

import orjson
from starlette.types import Receive, Scope, Send

from .config import Permission, TaniumConfig
from .state import TaniumState

if TYPE_CHECKING:
    from .emulator import TaniumEmulator

JSON = dict[str, Any]
Access = Permission | Literal["token", "public"]
"""A permission, any valid token (`token`), or no auth at all (`public`)."""

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "not found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def reason(status: int) -> str:
    return _REASONS.get(status, "Error")


class ApiError(Exception):
    """An error answer: 400 carries `errors[].description`, others only `text`."""

    def __init__(self, status: int, text: str | None = None, headers: dict[str, str] | None = None):
        self.status = status
        self.text = text or reason(status)
        self.headers = headers or {}
        super().__init__(f"{status} {self.text}")

    def body(self) -> JSON:
        if self.status == 400:
            return {"text": self.text, "errors": [{"description": self.text}]}
        return {"text": self.text}


def bad_request(text: str) -> ApiError:
    return ApiError(400, text)


def not_found() -> ApiError:
    return ApiError(404, "not found")


@dataclass
class Reply:
    payload: Any
    status: int = 200
    meta: JSON | None = None
    envelope: bool = True
    raw: bytes | None = None
    media_type: str = "application/json"
    headers: dict[str, str] | None = None


def page_meta(total: int, filtered: int) -> JSON:
    return {"totalCount": total, "filteredCount": filtered}


class Ctx:
    """One request as handlers see it."""

    def __init__(self, emulator: TaniumEmulator, scope: Scope, body: bytes) -> None:
        self.emulator = emulator
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.params: dict[str, Any] = dict(scope.get("path_params", {}))
        self.query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
        self.raw_headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        self.body = body
        self.token: str | None = None

    @property
    def config(self) -> TaniumConfig:
        return self.emulator.config

    @property
    def state(self) -> TaniumState:
        return self.emulator.state

    def query_all(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]

    def query_one(self, name: str) -> str | None:
        values = self.query_all(name)
        return values[0] if values else None

    def query_int(self, name: str, default: int) -> int:
        value = self.query_one(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise bad_request(f"query parameter '{name}' must be an integer") from None
        if number < 0:
            raise bad_request(f"query parameter '{name}' must not be negative")
        return number

    def limit(self, default: int, maximum: int) -> int:
        limit = self.query_int("limit", default)
        if limit > maximum:
            if self.config.limit_over_max == "reject":
                raise bad_request(f"limit must be less than or equal to {maximum}")
            return maximum
        return limit

    def raw_header(self, name: str) -> bytes | None:
        key = name.lower().encode("latin-1")
        for k, v in self.raw_headers:
            if k.lower() == key:
                return v
        return None

    def header(self, name: str) -> str | None:
        value = self.raw_header(name)
        return None if value is None else value.decode("latin-1")

    def text_header(self, name: str) -> str | None:
        """A header carrying user text: refused with 400 when not clean Latin-1."""
        value = self.raw_header(name)
        if value is None:
            return None
        if b"\r" in value or b"\n" in value:
            raise bad_request(f"header '{name}' must not contain CR or LF characters")
        if any((b < 0x20 and b != 0x09) or b == 0x7F for b in value):
            raise bad_request(f"header '{name}' contains control characters")
        if self.config.reject_utf8_headers and any(b >= 0x80 for b in value):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                raise bad_request(f"header '{name}' is not Latin-1 text (it holds UTF-8 bytes)")
        return value.decode("latin-1").strip()

    def media_type(self) -> str | None:
        value = self.header("content-type")
        return value.split(";", 1)[0].strip().lower() or None if value else None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"malformed JSON body: {exc}") from None

    def json_object(self) -> JSON:
        body = self.json()
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        return body

    def path_int(self, name: str) -> int:
        return int(self.params[name])


def authorize(ctx: Ctx, access: Access) -> None:
    if access == "public":
        return
    token = ctx.header("session")
    if not token:
        raise ApiError(401, "Unauthorized")
    ctx.token = token
    config, state = ctx.config, ctx.state
    permissions = config.tokens.get(token)
    if permissions is None:
        session = state.sessions.get(token)
        if session is None:
            raise ApiError(401, "Unauthorized")
        ttl = config.session_ttl_seconds
        if session.expired or (ttl is not None and state.monotonic() - session.created > ttl):
            session.expired = True
            raise ApiError(403, "Forbidden")
        permissions = config.login_permissions
    if access != "token" and access not in permissions:
        raise ApiError(403, "Forbidden")


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON. orjson writes the same bytes as `json.dumps` with compact separators
    and `ensure_ascii=False` for what replies hold (strings, integers, booleans, null), about
    18 times faster (a listing page of 500 documents: 0.3 ms instead of 5.7); anything it
    refuses (an integer beyond 64 bits, a key that is not a string) goes through `json`."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_type(config: TaniumConfig) -> str:
    return "application/json; charset=utf-8" if config.json_charset else "application/json"


async def send_raw(
    send: Send, status: int, body: bytes, media_type: str, headers: dict[str, str] | None = None
) -> None:
    raw = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
