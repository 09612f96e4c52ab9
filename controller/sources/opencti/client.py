"""POST `{OPENCTI_URL}/graphql` with retries, and error classification.

OpenCTI answers GraphQL errors with HTTP 200, so the class of a failure comes from
`errors[].extensions.code` as much as from the status:

- 429 (honours `Retry-After`, seconds or HTTP date), 408, 5xx, timeouts, resets, `LOCK_ERROR`,
  `DATABASE_ERROR`: retried by the shared loop of `controller.retry` (exponential backoff with
  full jitter, `max_attempts` tries in all, bounded in total time); then `OpenCTITransientError`;
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
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from controller.connect_errors import explain
from controller.errors import RemoteError
from controller.retry import Sleep, Timing, parse_retry_after, with_retries
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


def _retryable(
    reason: str,
    *,
    status: int | None = None,
    code: str | None = None,
    retry_after: float | None = None,
    applied: bool = True,
    body: str = "",
) -> OpenCTITransientError:
    """One failed attempt that may be retried (`applied`: the server may have processed it)."""
    failure = OpenCTITransientError(reason, status=status, code=code, body=body)
    failure.retry_after = retry_after
    failure.maybe_applied = applied
    return failure


class GraphQLClient:
    """An async OpenCTI GraphQL client; use as `async with GraphQLClient(settings) as c:`.

    Test hooks, as for the Tanium client: `transport` (e.g. `httpx.MockTransport`), `sleep`,
    `clock`, `wall_clock`, `rng` — or a whole `timing` — so no test waits in real backoff.
    """

    def __init__(
        self,
        settings: OpenCTISettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.settings = settings
        self._token = settings.token.get_secret_value()
        self.timing = timing or Timing(sleep, clock, wall_clock, rng or random.Random())
        self.retry = settings.retry_policy()
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

        def exhausted(failure: RemoteError, attempts: int, uncertain: bool) -> RemoteError:
            assert isinstance(failure, OpenCTIError)
            return OpenCTITransientError(
                failure.reason,
                operation=operation.name,
                status=failure.status,
                code=failure.code,
                body=failure.body,
                attempts=attempts,
            )

        return await with_retries(
            lambda: self._once(operation, payload),
            policy=self.retry,
            timing=self.timing,
            idempotent=operation.kind == "query",
            exhausted=exhausted,
            log=log,
            what=f"OpenCTI {operation.name}",
        )

    async def _once(self, operation: Operation, payload: JSON) -> JSON:
        self.requests += 1
        try:
            response = await self._http.post("/graphql", json=payload)
        except httpx.TimeoutException as exc:
            applied = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise _retryable(
                f"no answer within {self.settings.timeout:g}s ({type(exc).__name__})",
                applied=applied,
            ) from None
        except httpx.TransportError as exc:
            hint = explain(exc, self.settings.url, "OPENCTI_URL")
            if hint is not None and hint.permanent:  # retrying cannot fix a wrong URL
                wrong = OpenCTIProtocolError(hint.message, operation=operation.name)
                wrong.fatal = True
                raise wrong from None
            applied = not isinstance(exc, httpx.ConnectError)
            reason = hint.message if hint else f"connection failed ({type(exc).__name__}: {exc})"
            raise _retryable(reason, applied=applied) from None
        return self._interpret(operation, response)

    def _interpret(self, operation: Operation, response: httpx.Response) -> JSON:
        status = response.status_code
        body = self._scrub(response.text)
        name = operation.name
        if status == 429:
            raise _retryable(
                "rate limited (429)",
                status=status,
                retry_after=parse_retry_after(
                    response.headers.get("Retry-After"), self.timing.wall_clock()
                ),
                applied=False,
                body=body,
            )
        if status in (408, 425) or status >= 500:
            raise _retryable(
                f"server error {status}",
                status=status,
                retry_after=parse_retry_after(
                    response.headers.get("Retry-After"), self.timing.wall_clock()
                ),
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
                raise _retryable("the reply is not JSON", status=status, body=body) from None
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
            raise _retryable(
                f"{code}: {message}",
                status=status,
                code=code,
                applied=code not in ("LOCK_ERROR", "TOO_MANY_REQUESTS"),
            )
        else:
            cls = OpenCTIGraphQLError
        raise cls(message, operation=name, status=status, code=code, body=body)
