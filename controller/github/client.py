"""One HTTP call to the GitHub REST API: headers, retries, pagination, error classes.

Headers: `Authorization: Bearer <token>`, `Accept: application/vnd.github+json`,
`X-GitHub-Api-Version: 2022-11-28`, a `User-Agent` (GitHub refuses requests without one).
TLS is verified (httpx's default trust store); redirects are not followed.

Retries run in the project's one retry loop (`controller.retry.with_retries`, as for Tanium and
OpenCTI: exponential backoff with full jitter, bounded by attempts and by total time, its
`Timing` injectable), classed per GitHub's documented rules:
- 5xx and 408, timeouts and dropped connections: retried for idempotent calls (GET, PATCH).
  For a POST, a failure after the request may have reached GitHub is raised at once as
  `GitHubAPIError(uncertain=True)`: the caller looks before sending it again.
- Connection failures before anything was sent: retried for every call.
- Rate limits (429, or 403 with `retry-after`, with `x-ratelimit-remaining: 0`, or a message
  naming a rate limit): the wait is `retry-after` seconds, else until `x-ratelimit-reset`, else
  at least one minute, doubling per attempt. A wait that would end after the policy's total
  time is not waited: the error says when to try again.
- Any other 4xx is an answer, raised at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Self

import httpx

from controller import __version__
from controller.errors import RemoteError
from controller.github.errors import GitHubAPIError
from controller.github.settings import GitHubSettings
from controller.retry import RetryPolicy, Timing, parse_retry_after, with_retries

log = logging.getLogger("controller.github")

API_VERSION = "2022-11-28"
PER_PAGE = 100
"""GitHub's maximum page size for listings."""
SECONDARY_WAIT = 60.0
"""GitHub: without `retry-after` or a reset time, wait at least one minute after a rate limit."""
DEFAULT_RETRY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=20.0, max_total=180.0)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport failures after which GitHub certainly did not process the request."""


class GitHubClient:
    """An asynchronous client of one GitHub API root; use as `async with`."""

    def __init__(
        self,
        settings: GitHubSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        timing: Timing | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry
        self.timing = timing or Timing()
        self._origin = httpx.URL(settings.api_url).copy_with(path="/", query=None)
        self.requests_sent = 0
        self._client = httpx.AsyncClient(
            base_url=settings.api_url + "/",
            timeout=settings.timeout,
            verify=True,
            follow_redirects=False,
            transport=transport,
            headers={
                "authorization": f"Bearer {settings.token.get_secret_value()}",
                "accept": "application/vnd.github+json",
                "x-github-api-version": API_VERSION,
                "user-agent": f"octi-tanium/{__version__}",
            },
        )

    def __repr__(self) -> str:
        return f"GitHubClient({self.settings.api_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send with retries (the project's one loop, `controller.retry.with_retries`); return
        the successful response or raise `GitHubAPIError`.

        `path` is relative to the API root (`repos/o/r/...`) or an absolute URL on the same
        origin (a pagination link)."""
        url = self._url(path, method)
        request = self._client.build_request(method, url, params=params, json=json)
        shown = request.url.raw_path.decode("ascii")
        tries = 0

        async def attempt() -> httpx.Response:
            nonlocal tries
            tries += 1
            return await self._attempt(request, method, shown, tries)

        return await with_retries(
            attempt,
            policy=self.retry,
            timing=self.timing,
            idempotent=idempotent,
            exhausted=_exhausted,
            log=log,
            what=f"{method} {shown}",
        )

    async def _attempt(
        self, request: httpx.Request, method: str, shown: str, attempt: int
    ) -> httpx.Response:
        """One send: the successful response, or a `GitHubAPIError` (`temporary` ones are
        retried; `maybe_applied` says whether GitHub may have processed it)."""
        try:
            self.requests_sent += 1
            response = await self._client.send(request)
        except httpx.TransportError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise GitHubAPIError(
                    f"TLS certificate verification failed ({exc}): the API root must "
                    "present a certificate trusted by the system",
                    method=method,
                    path=shown,
                ) from exc
            failure = GitHubAPIError(
                f"{type(exc).__name__}: {exc}".rstrip(": "),
                method=method,
                path=shown,
                temporary=True,
            )
            failure.maybe_applied = not isinstance(exc, _NOT_SENT)
            raise failure from exc
        log.debug("%s %s -> %d", method, shown, response.status_code)
        if response.is_success:
            return response
        raise self._failure(response, method, shown, attempt)

    async def json(self, method: str, path: str, **options: Any) -> Any:
        """`request`, then the reply's JSON (a `GitHubAPIError` when it is not JSON)."""
        response = await self.request(method, path, **options)
        try:
            return response.json()
        except ValueError:
            raise GitHubAPIError(
                "the reply is not JSON",
                method=method,
                path=response.request.url.raw_path.decode("ascii"),
                status=response.status_code,
                body=self._redact(response.text),
            ) from None

    async def paginate(self, path: str, *, per_page: int = PER_PAGE) -> AsyncIterator[Any]:
        """Every item of a listing, page after page, following the `Link: rel="next"` URLs."""
        url: str | None = path
        params: Mapping[str, str | int] | None = {"per_page": per_page}
        while url is not None:
            response = await self.request("GET", url, params=params)
            try:
                items = response.json()
            except ValueError:
                items = None
            if not isinstance(items, list):
                raise GitHubAPIError(
                    "expected a JSON list",
                    method="GET",
                    path=response.request.url.raw_path.decode("ascii"),
                    status=response.status_code,
                    body=self._redact(response.text),
                )
            for item in items:
                yield item
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries per_page and page

    def _url(self, path: str, method: str) -> str:
        if "://" not in path:
            return path.lstrip("/")
        url = httpx.URL(path)
        if url.copy_with(path="/", query=None) != self._origin:
            raise GitHubAPIError(
                f"refusing to follow a link to another origin ({url.scheme}://{url.host}): "
                "the token is only sent to GITHUB_API_URL",
                method=method,
                path=url.path,
            )
        return path

    def _failure(
        self, response: httpx.Response, method: str, shown: str, attempt: int
    ) -> GitHubAPIError:
        """The error for an error status; `retry_after`: how long a rate limit (or a 503) asks
        to wait; `maybe_applied` False for a rate limit (GitHub did not process the call)."""
        status = response.status_code
        body = self._redact(response.text)
        message = _message(body) or response.reason_phrase
        rate_limited = self._rate_limit_wait(response, message, attempt)
        temporary = rate_limited is not None or status == 408 or status >= 500
        wait = rate_limited
        if wait is None and temporary:  # a 503 may say when to come back, too
            wait = parse_retry_after(response.headers.get("retry-after"), self.timing.wall_clock())
        if rate_limited is not None:
            reason = f"rate limited ({message}); GitHub asks to wait {wait:.0f}s"
        elif status == 401:
            reason = f"unauthorized ({message}): GITHUB_TOKEN is invalid, expired or revoked"
        elif status == 403:
            reason = (
                f"forbidden ({message}): the token may not do this; it needs write access to "
                "pull requests (GitHub Actions: `permissions: pull-requests: write`)"
            )
        elif status == 404:
            reason = (
                f"not found ({message}): the repository or pull request does not exist, or the "
                "token cannot see it"
            )
        else:
            reason = message
        error = GitHubAPIError(
            reason,
            method=method,
            path=shown,
            status=status,
            body=body,
            temporary=temporary,
            retry_after=wait,
        )
        error.maybe_applied = rate_limited is None and temporary
        return error

    def _rate_limit_wait(
        self, response: httpx.Response, message: str, attempt: int
    ) -> float | None:
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        after = parse_retry_after(headers.get("retry-after"), self.timing.wall_clock())
        if after is not None:
            return after
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                reset = float(headers.get("x-ratelimit-reset", ""))
            except ValueError:
                reset = None
            if reset is not None:
                return max(0.0, reset - self.timing.wall_clock()) + 1.0
        if response.status_code == 429 or "rate limit" in message.lower():
            return SECONDARY_WAIT * 2.0 ** (attempt - 1)
        return None

    def _redact(self, text: str) -> str:
        secret = self.settings.token.get_secret_value()
        return text.replace(secret, "<redacted>") if secret else text


def _message(body: str) -> str:
    """GitHub's `message` (plus the `errors[].message` of a 422), else the body's start."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), str):
        return body.strip()[:200]
    details = [
        str(e["message"])
        for e in payload.get("errors") or []
        if isinstance(e, dict) and isinstance(e.get("message"), str)
    ]
    return "; ".join([payload["message"], *details])


def _exhausted(failure: RemoteError, attempts: int, uncertain: bool) -> GitHubAPIError:
    """The error raised when the retry loop gives up (`with_retries`' `exhausted`)."""
    assert isinstance(failure, GitHubAPIError)  # the only failure `_attempt` raises
    reason = failure.reason
    if uncertain:
        reason += "; GitHub may have applied this call (not verified, not retried)"
    error = GitHubAPIError(
        reason,
        method=failure.method,
        path=failure.path,
        status=failure.status,
        body=failure.body,
        temporary=True,
        uncertain=uncertain,
        retry_after=failure.retry_after,
        attempts=attempts,
    )
    error.__cause__ = failure.__cause__
    error.maybe_applied = failure.maybe_applied
    return error
