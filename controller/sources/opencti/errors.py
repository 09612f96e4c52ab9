"""The OpenCTI source's exception tree, classed by what the caller must do next.

```
OpenCTIError                   base: the operation, HTTP status, GraphQL code, server message
├── OpenCTIAuthError           AUTH_REQUIRED / FORBIDDEN_ACCESS / HTTP 401, 403: stop the run;
│                              fix OPENCTI_TOKEN or the user's capabilities (KNOWLEDGE)
├── OpenCTIQueryError          GRAPHQL_VALIDATION_FAILED / UNSUPPORTED_ERROR / BAD_USER_INPUT:
│                              the server rejected a query the controller built — a bug in
│                              octi-tanium or a platform version it does not support: report it
├── OpenCTIProtocolError       the reply cannot be interpreted (not JSON, wrong shape, 404/405)
├── OpenCTIGraphQLError        any other GraphQL error (FUNCTIONAL_ERROR, DATABASE_ERROR, ...)
└── OpenCTITransientError      429 / 5xx / timeouts / resets / LOCK_ERROR after retries ran out
```

The tree hangs under the shared `controller.errors.RemoteError` (`temporary`, `fatal`).
`fetch_snapshot` turns protocol, GraphQL and transient errors into an *incomplete* snapshot
(fail closed: the plan then deletes nothing); auth and query errors propagate to the CLI.
No error ever holds the request, its headers or the token: they carry the operation name, the
status, the GraphQL code and at most 200 characters of the reply, from which the token is
removed should the server ever echo it.
"""

from __future__ import annotations

from controller.errors import RemoteError

BODY_EXCERPT = 200


class OpenCTIError(RemoteError):
    """Any failure talking to OpenCTI (`temporary`, `fatal`: see `controller.errors`)."""

    product = "OpenCTI"

    def __init__(
        self,
        reason: str,
        *,
        operation: str = "",
        status: int | None = None,
        code: str | None = None,
        body: str = "",
        attempts: int = 1,
    ) -> None:
        self.reason = reason
        self.operation = operation
        self.status = status
        self.code = code
        self.body = body[:BODY_EXCERPT]
        self.attempts = attempts
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"query {self.operation}" if self.operation else "OpenCTI"
        status = f" -> HTTP {self.status}" if self.status is not None else ""
        code = f" [{self.code}]" if self.code else ""
        return self.compose(where, status, code)


class OpenCTIAuthError(OpenCTIError):
    """The token is missing, unknown or expired (`AUTH_REQUIRED`), or its user lacks a
    capability (`FORBIDDEN_ACCESS`; reads need `KNOWLEDGE`). No call will succeed until a human
    fixes OPENCTI_TOKEN / OPENCTI_TOKEN_FILE or the user's group: stop the run."""

    fatal = True


class OpenCTIQueryError(OpenCTIError):
    """OpenCTI rejected a query octi-tanium built (unknown field or filter key, bad variables).

    Permanent: either a bug in octi-tanium or a platform version it does not support (a field
    that does not exist in that version). The message names the operation; report it.
    """

    def _message(self) -> str:
        return (
            super()._message()
            + " — OpenCTI rejected a query octi-tanium built: this is a bug in octi-tanium or an "
            "unsupported OpenCTI version (run `about { version }`); please report this message"
        )


class OpenCTIProtocolError(OpenCTIError):
    """The server answered something that is not an OpenCTI GraphQL reply."""


class OpenCTIGraphQLError(OpenCTIError):
    """A GraphQL error that retrying will not fix (e.g. `FUNCTIONAL_ERROR`)."""


class OpenCTITransientError(OpenCTIError):
    """429, 5xx, timeouts, connection resets or `LOCK_ERROR` that outlasted the retry policy."""

    temporary = True


AUTH_CODES = frozenset({"AUTH_REQUIRED", "FORBIDDEN_ACCESS"})
QUERY_BUG_CODES = frozenset(
    {"GRAPHQL_VALIDATION_FAILED", "UNSUPPORTED_ERROR", "BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED"}
)
RETRYABLE_CODES = frozenset({"LOCK_ERROR", "DATABASE_ERROR", "TOO_MANY_REQUESTS"})
