"""The one error tree, classed by what the caller must do next (kopf's idea).

```
OctiTaniumError                 root: every error the command line reports; carries its exit code
├── UserError                   fix your input: policies, plan file, bundle, flags, settings
│   ├── PipelineError           the policies or --source cannot be used (controller.reconcile)
│   ├── PlanFileError           not a plan file, or an unsupported format (controller.planfile)
│   ├── BundleError             unreadable STIX bundle (controller.sources.bundle)
│   ├── StalePlanError          the saved plan no longer matches Tanium (controller.apply)
│   ├── TaniumSettingsError     TANIUM_* missing or malformed (controller.tanium.settings)
│   ├── OpenCTISettingsError    OPENCTI_* missing or malformed (controller.sources.opencti)
│   └── GitHubError             pr-comment settings or body (controller.github.errors)
├── RemoteError                 a remote system failed; `temporary`, `fatal`, `retry_after`
│   ├── TaniumError             controller.tanium.errors (AuthError, TransientError, ...)
│   ├── OpenCTIError            controller.sources.opencti.errors (OpenCTIAuthError, ...)
│   └── GitHubAPIError          controller.github.errors (also a GitHubError)
├── ApplyStopped                a fatal remote error stopped an apply half-way
└── LeaseError                  one writer per target (controller.lease.errors)
    ├── LockBusy                another octi-tanium holds the lease past --lock-timeout
    ├── LeaseLost               deposed: stopped before the next write batch
    ├── LockStoreUnavailable    Redis / PostgreSQL / the state dir unreachable (temporary)
    ├── LockConfigError         OCTI_TANIUM_LOCK_URL / OCTI_TANIUM_LOCK_TTL unusable
    └── LeaseNotFound           `lock release ID` matched nothing
```

`RemoteError.temporary`: the same call may succeed later without anyone changing anything
(429, 5xx, timeouts): retried by `controller.retry`, and a failed write of a pass withholds
that pass's deletes. `RemoteError.fatal`: no further call can succeed (a 401): an apply stops at
once instead of failing item after item.

The command line catches the root only: it prints `error: ` + `explain()` and exits with
`exit_code`. Messages name the object (file:line:col, the intel, the HTTP call) and what to do
next; none ever holds a token.
"""

from __future__ import annotations

from typing import ClassVar


class OctiTaniumError(Exception):
    """Any error octi-tanium reports to its user; stops the command with `exit_code`."""

    exit_code: ClassVar[int] = 1

    def explain(self) -> str:
        """The line the command line prints after `error: ` (the message, in context)."""
        return str(self)


class UserError(OctiTaniumError):
    """Something the user must fix before the command can run: the message says what."""


class PipelineError(UserError):
    """The policies or the `--source` cannot be used (message says what to do)."""


class RemoteError(OctiTaniumError):
    """A remote system (Tanium, OpenCTI) failed; classed by what to do next."""

    product: ClassVar[str] = "remote"
    temporary: bool = False
    """True when the same call may succeed later without anyone changing anything."""
    fatal: bool = False
    """True when no further call can succeed (credentials): stop the run, do not go on."""
    retry_after: float | None = None
    """The server's `Retry-After` hint, in seconds, when it gave one."""
    maybe_applied: bool = True
    """For a temporary failure: the server may have processed the call before it failed
    (False: it surely did not — refused connection, 429 — so even a create may be resent)."""

    reason: str = ""
    """The server's message, or ours."""
    body: str = ""
    """The first characters of the reply (never a header, never a token)."""
    attempts: int = 1

    def explain(self) -> str:
        return f"{self.product}: {self}"

    def compose(self, where: str, *details: str) -> str:
        """`<where><details>: <reason>[ after N attempts][; body: '...']` — one shape of message
        for every remote system."""
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        body = f"; body: {self.body!r}" if self.body and self.body not in self.reason else ""
        return f"{where}{''.join(details)}: {self.reason}{tries}{body}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ApplyStopped(OctiTaniumError):
    """A fatal remote error (e.g. Tanium answered 401) stopped an apply half-way."""

    def __init__(self, cause: RemoteError) -> None:
        self.cause = cause
        super().__init__(f"apply stopped: {cause}")
