"""One HTTP call to Tanium: auth header, bounded concurrency, retries, envelope, error classes.
Retries: the shared loop of `controller.retry` (exponential backoff with full jitter, at least
the server's `Retry-After` in seconds or as an HTTP date, bounded by attempts and total time).

What is retried, and why it cannot duplicate anything:
- Failures where the request certainly did not reach the server (connection refused, connect
  and pool timeouts) and 429 (the rate limiter refused it) are retried for every call.
- Failures after the request may have been processed (5xx, read timeouts, connections reset
  while waiting for the reply) are retried blindly only for idempotent calls (`idempotent=True`):
  GET, PUT, DELETE, label attach/detach, and the blocklist upload (Reputation consolidates
  entries that share a hash, so appending the same entry twice leaves one entry).
- For a non-idempotent call (a create, a deploy) the caller passes `landed`, a check that looks
  the object up (by intrinsic id/name, label name, source name, deploy status). After an
  uncertain failure the transport waits out the backoff, runs the check, and returns what it
  found instead of sending again; only when the check finds nothing is the call repeated.
  Without a check the failure is raised as `TransientError(uncertain=True)`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic_core
from pydantic import SecretStr

from controller.connect_errors import explain
from controller.errors import RemoteError
from controller.retry import RetryPolicy, Sleep, Timing, parse_retry_after, with_retries
from controller.tanium import connections
from controller.tanium.errors import (
    ProtocolError,
    TaniumError,
    TransientError,
    error_for_status,
    server_reason,
)
from controller.tanium.settings import TaniumSettingsError

log = logging.getLogger("controller.tanium")
_httpx_log = logging.getLogger("httpx")

Check = Callable[[], Awaitable[Any | None]]
Reuse = Callable[[bytes], "Reply | None"]
"""Given a successful JSON reply's bytes, what was made of the same bytes before (returned
instead of decoding them again), or None (see `controller.tanium.pagination.PageMemo`)."""

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport failures after which the server certainly did not process the request."""


@dataclass(frozen=True)
class Reply:
    data: Any
    meta: Mapping[str, Any] | None = None
    status: int = 200
    recovered: bool = False
    """True when the reply was lost and `data` comes from the `landed` check instead."""
    reused: bool = False
    """True when the bytes were the same as an earlier reply's and `data` is what was made of
    those (`Reuse`, `controller.tanium.pagination.PageMemo`): neither decoded nor mapped again."""

    def total_count(self) -> int | None:
        """How many items the listing holds: `meta.filteredCount` (the items matching the
        query's filters), else `meta.totalCount`; None without meta."""
        for key in ("filteredCount", "totalCount"):
            value = self.meta.get(key) if self.meta else None
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None


def _decode(response: httpx.Response) -> Any:
    """The reply's JSON: parsed by pydantic-core (a third faster than `json.loads` on a page of
    500 documents, and short strings repeated across pages — types, timestamps, list names —
    come back as one object), else by `Response.json` (what a UTF-8 parser refuses: another
    encoding, a byte-order mark), which raises `ValueError` on what is not JSON."""
    try:
        return pydantic_core.from_json(response.content)
    except ValueError:
        return response.json()


def system_trust() -> ssl.SSLContext:
    """The TLS context httpx makes for `verify=True` (the system's or `SSL_CERT_FILE` /
    `SSL_CERT_DIR`'s CAs), made once per process and environment instead of once per client:
    loading the CA store takes ~50 ms, and a pass makes several clients."""
    return _trust(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _trust(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=True, trust_env=True)


def _pool_for(client: httpx.AsyncClient, url: httpx.URL) -> httpx.AsyncBaseTransport:
    """The transport `client` sends requests for `url` through: its connection pool, or the
    proxy the environment names for that host (`HTTPS_PROXY`, `NO_PROXY`, …)."""
    pick = getattr(client, "_transport_for_url", None)
    if pick is None:  # pragma: no cover - an httpx without it: the client does it per request
        return _ClientSends(client)
    transport: httpx.AsyncBaseTransport = pick(url)
    return transport


class _ClientSends(httpx.AsyncBaseTransport):  # pragma: no cover - see `_pool_for`
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.client.send(request, stream=True)


class Transport:
    """Sends requests to one Tanium host; shared by all reads and writes of a client."""

    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout: float = 30.0,
        max_in_flight: int = 8,
        retry: RetryPolicy | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        secret = token.get_secret_value()
        if not secret or not secret.isascii() or not secret.isprintable():
            raise TaniumSettingsError(
                "the Tanium token is empty or holds characters an HTTP header cannot carry"
            )
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.retry = retry or RetryPolicy()
        self.timing = Timing(sleep, clock, wall_clock, rng or random.Random())
        self.sleep = sleep
        self.clock = clock
        self.rng = self.timing.rng
        self._semaphore = asyncio.Semaphore(max_in_flight)
        self.requests_sent = 0
        tls = system_trust() if verify is True else verify

        def client(connections: int) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                base_url=self.base_url,
                verify=tls,
                timeout=timeout,
                transport=http_transport,
                limits=httpx.Limits(max_connections=connections),
                headers={"accept": "application/json"},
            )

        # The hot path (`_send`): one request goes straight to the connection pool the client
        # would pick for this host (its proxy from the environment, or `http_transport`),
        # with the client's default headers and timeout, skipping what Tanium's API never
        # uses and costs ~20 % of the client's CPU per request at apply's rate: merging the
        # URL with `base_url` twice, the cookie jar, auth and redirect handling. One pool of
        # one connection per request in flight, each request taking a free one: httpx's pool
        # looks over all its connections twice per request (and asked each whether the
        # server closed it), so one pool of `max_in_flight` connections costs that many times
        # more; the connections are the same in number and kept alive alike.
        self._root = self.base_url + "/"
        url = httpx.URL(self._root)
        self._clients = (
            [client(1) for _ in range(max_in_flight)]
            if http_transport is None
            else [client(max_in_flight)]  # an injected transport is shared by every request
        )
        self._client = self._clients[0]
        pools = [_pool_for(c, url) for c in self._clients]
        for pool in pools:
            connections.tune(pool)  # and two more costs of the pool's (see `connections`)
        self._free = [pools[i % len(pools)] for i in range(max_in_flight)]
        """The pools no request is using (as many as the semaphore lets in, so never empty
        when one is taken); the last one freed is taken first: its connection is warm."""
        self._timeout = httpx.Timeout(timeout).as_dict()
        self._default_headers = [
            *self._client.headers.raw,
            (b"session", secret.encode("ascii")),
        ]

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r})"

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str | bytes] | None = None,
        object_name: str | None = None,
        idempotent: bool = True,
        landed: Check | None = None,
        ok_statuses: frozenset[int] = frozenset(),
        reuse: Reuse | None = None,
    ) -> Reply:
        """Send with retries; return the unwrapped reply or raise a `TaniumError`.

        `ok_statuses`: error statuses that are an answer, not a failure (e.g. 404 on delete);
        they come back as a `Reply` with `data=None`. `reuse`: see `Reuse`.
        """
        shown = f"{path}?{httpx.QueryParams(params)}" if params else path

        async def attempt() -> Reply:
            return await self._attempt(
                method,
                path,
                shown,
                params,
                json,
                content,
                headers,
                object_name,
                ok_statuses,
                reuse,
            )

        async def recovered() -> Reply | None:
            found = await landed() if landed is not None else None
            return None if found is None else Reply(found, None, 0, recovered=True)

        return await with_retries(
            attempt,
            policy=self.retry,
            timing=self.timing,
            idempotent=idempotent,
            exhausted=self._exhausted,
            landed=recovered if landed is not None else None,
            log=log,
            what=f"{method} {shown}",
        )

    async def _attempt(
        self,
        method: str,
        path: str,
        shown: str,
        params: Mapping[str, str | int] | None,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str | bytes] | None,
        object_name: str | None,
        ok_statuses: frozenset[int],
        reuse: Reuse | None = None,
    ) -> Reply:
        """One send: the reply, or a `TaniumError` (`temporary` ones are retried)."""
        try:
            response = await self._send(method, path, params, json, content, headers)
        except (httpx.UnsupportedProtocol, httpx.DecodingError, httpx.TooManyRedirects) as exc:
            raise ProtocolError(
                f"{type(exc).__name__}: {exc}",
                method=method,
                path=shown,
                object_name=object_name,
            ) from exc
        except httpx.TransportError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise TaniumError(
                    f"TLS certificate verification failed ({exc}): set TANIUM_CA_BUNDLE to "
                    "the CA that signed the server's certificate",
                    method=method,
                    path=shown,
                ) from exc
            hint = explain(exc, self.base_url, "TANIUM_URL")
            if hint is not None and hint.permanent:  # retrying cannot fix a wrong URL
                wrong = TaniumError(hint.message, method=method, path=shown)
                wrong.fatal = True
                raise wrong from exc
            failure = TransientError(
                hint.message if hint else f"{type(exc).__name__}: {exc}".rstrip(": "),
                method=method,
                path=shown,
                object_name=object_name,
            )
            failure.maybe_applied = not isinstance(exc, _NOT_SENT)
            raise failure from exc
        if response.is_success:
            return self._reply(response, method, shown, object_name, reuse)
        if response.status_code in ok_statuses:
            return Reply(None, None, response.status_code)
        error = self._status_error(response, method, shown, object_name)
        error.maybe_applied = response.status_code != 429
        raise error

    async def send_once(self, method: str, path: str, *, json: Any = None) -> httpx.Response:
        """One request, not retried, the reply as is (for replies that are not JSON); a
        connection failure that retrying cannot fix is explained (see `connect_errors`)."""
        try:
            return await self._send(method, path, None, json, None, None)
        except httpx.TransportError as exc:
            hint = explain(exc, self.base_url, "TANIUM_URL")
            raise TaniumError(
                hint.message if hint else f"{type(exc).__name__}: {exc}", method=method, path=path
            ) from exc

    def status_error(self, response: httpx.Response, method: str, path: str) -> TaniumError:
        return self._status_error(response, method, path, None)

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str | bytes] | None,
    ) -> httpx.Response:
        all_headers = self._default_headers
        if headers:
            all_headers = all_headers + [
                (name.encode("ascii"), value if isinstance(value, bytes) else value.encode("ascii"))
                for name, value in headers.items()
            ]
        request = httpx.Request(
            method,
            self._root + path.lstrip("/"),
            params=params,
            json=json,
            content=content,
            headers=all_headers,
            extensions={"timeout": self._timeout},
        )
        async with self._semaphore:
            self.requests_sent += 1
            began = self.clock()
            pool = self._free.pop()
            try:
                response = await pool.handle_async_request(request)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            except httpx.RequestError as exc:
                exc.request = request  # as the client does: errors name their request
                raise
            finally:
                self._free.append(pool)
            response.request = request
            if _httpx_log.isEnabledFor(logging.INFO):  # what the client logs for each reply
                _httpx_log.info(  # (`controller.run.requests` counts them: the metrics)
                    'HTTP Request: %s %s "%s %d %s"',
                    request.method,
                    request.url,
                    response.http_version,
                    response.status_code,
                    response.reason_phrase,
                )
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s -> %d (%.0f ms)",
                    method,
                    path,
                    response.status_code,
                    (self.clock() - began) * 1000,
                )
            return response

    def _reply(
        self,
        response: httpx.Response,
        method: str,
        shown: str,
        object_name: str | None,
        reuse: Reuse | None = None,
    ) -> Reply:
        status = response.status_code
        if not response.content:
            return Reply(None, None, status)
        content_type = response.headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise ProtocolError(
                f"expected a JSON reply, got {content_type or 'no content type'}",
                method=method,
                path=shown,
                status=status,
                object_name=object_name,
                body=self._redact(response.text),
            )
        if reuse is not None and (known := reuse(response.content)) is not None:
            return known
        try:
            payload = _decode(response)
        except ValueError:
            raise ProtocolError(
                "the reply is not valid JSON",
                method=method,
                path=shown,
                status=status,
                object_name=object_name,
                body=self._redact(response.text),
            ) from None
        if isinstance(payload, dict) and "data" in payload:
            meta = payload.get("meta")
            return Reply(payload["data"], meta if isinstance(meta, dict) else None, status)
        return Reply(payload, None, status)  # bare payload (detect3-era routes)

    def _status_error(
        self, response: httpx.Response, method: str, shown: str, object_name: str | None
    ) -> TaniumError:
        body = self._redact(response.text)
        after = parse_retry_after(response.headers.get("retry-after"), self.timing.wall_clock())
        return error_for_status(
            response.status_code,
            server_reason(body) or response.reason_phrase,
            method=method,
            path=shown,
            object_name=object_name,
            body=body,
            retry_after=after,
        )

    @staticmethod
    def _exhausted(failure: RemoteError, attempts: int, uncertain: bool) -> TaniumError:
        assert isinstance(failure, TaniumError)
        reason = failure.reason
        if uncertain:
            reason += "; the server may have applied this call (not verified, not retried)"
        error = TransientError(
            reason,
            method=failure.method,
            path=failure.path,
            status=failure.status,
            object_name=failure.object_name,
            body=failure.body,
            retry_after=failure.retry_after,
            attempts=attempts,
        )
        error.uncertain = uncertain
        error.__cause__ = failure.__cause__
        return error

    def _redact(self, text: str) -> str:
        secret = self._token.get_secret_value()
        return text.replace(secret, "<redacted>") if secret else text
