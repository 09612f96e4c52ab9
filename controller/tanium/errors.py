"""The Tanium client's exception tree, classed by what the caller must do next.

```
TaniumError                      base: method, path, status, object name, body excerpt
├── AuthError                    401/403: stop the run; fix the token, its trusted IPs or its user
├── RejectedError                400 (and other 4xx): this item is refused; `reason` says why
├── NotFoundError                404: the object does not exist (deletes treat it as success)
├── ConflictError                409: the object exists already / clashes with another one
├── ProtocolError                the reply cannot be interpreted (not JSON, unexpected shape)
├── InconsistentListingError     a listing's pages do not add up (temporary: read again later)
└── TransientError               429 / 5xx / timeouts / resets, after retries ran out (temporary)
```

The tree hangs under the shared `controller.errors.RemoteError`: `temporary` tells a reconciler
whether trying the same thing later may succeed (kopf's `TemporaryError` versus
`PermanentError`), `fatal` whether any further call can (a 401 stops an apply; a 403 fails only
the items of that route); `retry_after` is the server's hint, when it gave one.

The errors never hold the request or its headers (the `session` header is the API token); they
carry the method, the path with its query, the status and the first 200 characters of the body,
from which the transport removes the token should the server ever echo it.
"""

from __future__ import annotations

import json
from typing import Any

from controller.errors import RemoteError

BODY_EXCERPT = 200


class TaniumError(RemoteError):
    """Any failure talking to Tanium.

    Attributes: `method`, `path` (with query string), `status` (None when no reply came),
    `object_name` (the intel/label/entry concerned, when there is one), `reason` (the server's
    message or ours), `body` (first 200 characters of the reply).
    """

    product = "Tanium"

    def __init__(
        self,
        reason: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        object_name: str | None = None,
        body: str = "",
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.reason = reason
        self.method = method
        self.path = path
        self.status = status
        self.object_name = object_name
        self.body = body[:BODY_EXCERPT]
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.method} {self.path}".strip() or "Tanium"
        status = f" -> {self.status}" if self.status is not None else ""
        what = f" [{self.object_name!r}]" if self.object_name else ""
        return self.compose(where, status, what)


class AuthError(TaniumError):
    """401 or 403: no call will succeed until a human fixes the credentials; stop the run.

    401: the token is unknown or expired, or the caller's IP address is not in the global
    setting `api_token_trusted_ip_address_list` (nor in the token's trusted addresses).
    403: the token is valid but its user lacks a permission for this route (e.g. deploy).
    `fatal` for a 401 only: a 403 fails the items of that route, the rest still happens.
    """

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason, **details)
        self.fatal = self.status != 403

    def explain(self) -> str:
        return f"Tanium refused the credentials: {self}"


class RejectedError(TaniumError):
    """The server (400, or another 4xx) or the client itself refused this item.

    Permanent for that item: `reason` carries the server's message (`text`,
    `errors[].description` or `Message`). The rest of a plan can proceed.
    """


class NotFoundError(TaniumError):
    """404: the object does not exist."""


class ConflictError(TaniumError):
    """409: the object clashes with an existing one (e.g. a label name already taken)."""


class ProtocolError(TaniumError):
    """The server answered something the client cannot interpret (not JSON, wrong shape)."""


class InconsistentListingError(TaniumError):
    """A paginated listing does not add up (count mismatch, duplicates, a total that moved).

    Raised instead of returning a partial inventory: a partial actual state would make the
    controller create duplicates. Usually the inventory changed during the read: read again.
    """

    temporary = True


class TransientError(TaniumError):
    """429, 5xx, timeouts or connection failures that outlasted the retry policy.

    `uncertain` is True when a non-idempotent call may have been applied by the server and the
    client could not verify it (the caller must look before doing it again).
    """

    temporary = True
    uncertain: bool = False


def server_reason(body: str) -> str:
    """The server's message from `{"errors":[{"description"}]}`, `{"text"}` or `{"Message"}`."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if not isinstance(payload, dict):
        return body.strip()[:200]
    errors = payload.get("errors")
    if isinstance(errors, list):
        found = [
            str(e["description"]) for e in errors if isinstance(e, dict) and e.get("description")
        ]
        if found:
            return "; ".join(found)
    for key in ("text", "Message", "message", "error"):
        if isinstance(payload.get(key), str) and payload[key]:
            return str(payload[key])
    return body.strip()[:200]


def permission_for(method: str, path: str) -> str:
    """The Tanium permission a route needs, in the console's words (best effort)."""
    if "/intel/deploy" in path:
        return "deploy intel (Threat Response: Intel DB deploy)"
    if "on-demand-scans" in path or "quick-scans" in path:
        return "start on-demand scans (Threat Response)"
    if "/reputation/" in path:
        return "read the Reputation custom list" if method == "GET" else "write Reputation lists"
    if "/api/v2/groups" in path:
        return "read computer groups"
    if method == "GET":
        return "read Threat Response intel"
    return "write Threat Response intel (documents, labels, sources)"


def error_for_status(
    status: int,
    reason: str,
    *,
    method: str,
    path: str,
    object_name: str | None,
    body: str,
    retry_after: float | None,
) -> TaniumError:
    """The error class for an HTTP error status (retry hints kept only where they matter)."""
    cls: type[TaniumError]
    if status == 401:
        cls = AuthError
        reason = (
            f"unauthorized ({reason}): TANIUM_TOKEN (or TANIUM_TOKEN_FILE) is unknown or "
            "expired, or this host's IP address is not in api_token_trusted_ip_address_list "
            "nor in the token's trusted IP addresses"
        )
    elif status == 403:
        cls = AuthError
        reason = (
            f"forbidden ({reason}): the user of TANIUM_TOKEN lacks the permission to "
            f"{permission_for(method, path)}; grant it to the token's user (or its role)"
        )
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = ConflictError
    elif status in (408, 429) or status >= 500:
        cls = TransientError
    elif 400 <= status < 500:
        cls = RejectedError
    else:
        cls, reason = ProtocolError, f"unexpected status ({reason})"
    return cls(
        reason,
        method=method,
        path=path,
        status=status,
        object_name=object_name,
        body=body,
        retry_after=retry_after if cls.temporary else None,
    )
