"""POST `{OPENCTI_URL}/graphql` with retries, and error classification.

OpenCTI answers GraphQL errors with HTTP 200, so the class of a failure comes from
`errors[].extensions.code` as much as from the status:

- 429 (honours `Retry-After`), 408, 5xx, timeouts, resets, `LOCK_ERROR`, `DATABASE_ERROR`:
  retried with exponential backoff and jitter, `max_attempts` tries in all; then
  `OpenCTITransientError`;
- `AUTH_REQUIRED`, `FORBIDDEN_ACCESS`, HTTP 401 / 403: `OpenCTIAuthError` at once;
- `GRAPHQL_VALIDATION_FAILED`, `UNSUPPORTED_ERROR`, `BAD_USER_INPUT`: `OpenCTIQueryError`
  (a bug report naming the operation);
- any other GraphQL error: `OpenCTIGraphQLError`;
- 404, 405, other 4xx, a reply that is not GraphQL: `OpenCTIProtocolError`.

Mutations are retried only when the server surely did not apply them (429, `LOCK_ERROR`, a
refused connection). Every call has a timeout. The token is sent in the `Authorization` header
only; it never appears in an exception or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx

from controller.sources.opencti.errors import (
    AUTH_CODES,
    QUERY_BUG_CODES,
    RETRYABLE_CODES,
    OpenCTIAuthError,
    OpenCTIError,
    OpenCTIGraphQLError,
    OpenCTIProtocolError,
    OpenCTIQueryError,
    OpenCTITransientError,
)
from controller.sources.opencti.queries import Operation
from controller.sources.opencti.settings import OpenCTISettings

log = logging.getLogger("controller.sources.opencti")
USER_AGENT = "octi-tanium/0.1 (+httpx)"
JSON = dict[str, Any]


class _Retry(Exception):
    """One failed attempt that may be retried."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        applied: bool = True,
        body: str = "",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.applied = applied
        """False when the server surely did not apply the call (safe to retry a mutation)."""
        self.body = body


class GraphQLClient:
    """An async OpenCTI GraphQL client; use as `async with GraphQLClient(settings) as c:`."""

    def __init__(
        self,
        settings: OpenCTISettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._token = settings.token.get_secret_value()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.requests = 0
        self._http = httpx.AsyncClient(
            base_url=settings.url,
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
            verify=settings.verify(),
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> GraphQLClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"GraphQLClient(url={self.settings.url!r})"

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    async def execute(self, operation: Operation, variables: JSON | None = None) -> JSON:
        """The `data` of one operation; raises an `OpenCTIError` subclass (see module doc)."""
        payload = {
            "query": operation.document,
            "variables": variables or {},
            "operationName": operation.name,
        }
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(operation, payload)
            except _Retry as failure:
                may_retry = operation.kind == "query" or not failure.applied
                if attempt >= attempts or not may_retry:
                    raise OpenCTITransientError(
                        failure.reason,
                        operation=operation.name,
                        status=failure.status,
                        code=failure.code,
                        body=failure.body,
                        attempts=attempt,
                    ) from None
                delay = self._delay(attempt, failure.retry_after)
                log.info(
                    "OpenCTI %s: %s; retry %d/%d in %.2fs",
                    operation.name,
                    failure.reason,
                    attempt,
                    attempts - 1,
                    delay,
                )
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        cap = self.settings.retry_max_delay
        base = min(cap, self.settings.retry_backoff * 2 ** (attempt - 1))
        delay: float = base / 2 + self._rng.uniform(0, base / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, cap))
        return delay

    async def _once(self, operation: Operation, payload: JSON) -> JSON:
        self.requests += 1
        try:
            response = await self._http.post("/graphql", json=payload)
        except httpx.TimeoutException as exc:
            applied = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise _Retry(
                f"no answer within {self.settings.timeout:g}s ({type(exc).__name__})",
                applied=applied,
            ) from None
        except httpx.TransportError as exc:
            applied = not isinstance(exc, httpx.ConnectError)
            raise _Retry(
                f"connection failed ({type(exc).__name__}: {exc})", applied=applied
            ) from None
        return self._interpret(operation, response)

    def _interpret(self, operation: Operation, response: httpx.Response) -> JSON:
        status = response.status_code
        body = self._scrub(response.text)
        name = operation.name
        if status == 429:
            raise _Retry(
                "rate limited (429)",
                status=status,
                retry_after=_retry_after(response),
                applied=False,
                body=body,
            )
        if status in (408, 425) or status >= 500:
            raise _Retry(
                f"server error {status}",
                status=status,
                retry_after=_retry_after(response),
                applied=status != 503,
                body=body,
            )
        if status in (401, 403):
            raise OpenCTIAuthError(
                "the server refused the credentials: check OPENCTI_TOKEN (or OPENCTI_TOKEN_FILE)",
                operation=name,
                status=status,
                body=body,
            )
        try:
            reply = response.json()
        except ValueError:
            if status == 200:
                raise _Retry("the reply is not JSON", status=status, body=body) from None
            reply = None
        if not isinstance(reply, dict) or ("data" not in reply and "errors" not in reply):
            hint = " (is OPENCTI_URL the platform root?)" if status in (404, 405) else ""
            raise OpenCTIProtocolError(
                f"not a GraphQL reply{hint}", operation=name, status=status, body=body
            )
        errors = reply.get("errors")
        if errors:
            self._raise_for(operation, errors, status, body)
        data = reply.get("data")
        if not isinstance(data, dict):
            raise OpenCTIProtocolError(
                "a GraphQL reply without data", operation=name, status=status, body=body
            )
        return data

    def _raise_for(self, operation: Operation, errors: Any, status: int, body: str) -> None:
        items = errors if isinstance(errors, list) else [errors]
        codes: list[str] = []
        messages: list[str] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            ext = item.get("extensions")
            ext = ext if isinstance(ext, dict) else {}
            code = ext.get("code") or item.get("name")
            codes.append(str(code) if code else "UNKNOWN")
            messages.append(self._scrub(str(item.get("message", ""))))
        code = next((c for c in codes if c in AUTH_CODES), None)
        code = code or next((c for c in codes if c in QUERY_BUG_CODES), None)
        code = code or (codes[0] if codes else "UNKNOWN")
        message = "; ".join(m for m in messages if m) or "GraphQL error"
        name = operation.name
        cls: type[OpenCTIError]
        if code in AUTH_CODES:
            hint = (
                "check OPENCTI_TOKEN (or OPENCTI_TOKEN_FILE)"
                if code == "AUTH_REQUIRED"
                else "the token's user lacks a capability (reads need KNOWLEDGE)"
            )
            raise OpenCTIAuthError(f"{message} — {hint}", operation=name, status=status, code=code)
        if code in QUERY_BUG_CODES:
            cls = OpenCTIQueryError
        elif all(c in RETRYABLE_CODES for c in codes):
            raise _Retry(
                f"{code}: {message}",
                status=status,
                code=code,
                applied=code not in ("LOCK_ERROR", "TOO_MANY_REQUESTS"),
            )
        else:
            cls = OpenCTIGraphQLError
        raise cls(message, operation=name, status=status, code=code, body=body)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
