"""The lease's errors: each says what happened, to which target, and what to do next.

They belong to the one error tree (`controller/errors.py`): `LeaseError` is an
`OctiTaniumError` (exit 1), and `LockStoreUnavailable` is `temporary` — the next pass may find
the store again.
"""

from __future__ import annotations

from datetime import datetime

from controller.errors import OctiTaniumError


class LeaseError(OctiTaniumError):
    """Root of the lease errors."""

    temporary: bool = False
    """True when the same call may succeed later (the store is down, not misconfigured)."""


class LockConfigError(LeaseError):
    """`OCTI_TANIUM_LOCK_URL` or `OCTI_TANIUM_LOCK_TTL` cannot be used."""


class LockStoreUnavailable(LeaseError):
    """The lock store (Redis, PostgreSQL, the state directory) cannot be reached."""

    temporary = True

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(
            f"cannot reach the lock store {url}: {reason}; check OCTI_TANIUM_LOCK_URL "
            "and that the server is up"
        )


class LockBusy(LeaseError):
    """Another octi-tanium holds the lease of the target, and kept it past the timeout."""

    def __init__(
        self, target: str, holder: str, since: datetime, expires: datetime, timeout: float
    ) -> None:
        self.target = target
        self.holder = holder
        self.since = since
        self.expires = expires
        waited = f"after waiting {timeout:g} s" if timeout > 0 else "without waiting"
        super().__init__(
            f"another octi-tanium ({holder}) holds the lease for {target} since "
            f"{since.isoformat(timespec='seconds')} (renewed until "
            f"{expires.isoformat(timespec='seconds')}), still held {waited}; wait, raise "
            f"--lock-timeout, or `octi-tanium lock release {holder}` if it is dead"
        )


class LeaseLost(LeaseError):
    """This process no longer holds the lease: it must stop writing before its next batch."""

    def __init__(self, target: str, holder: str, token: int, reason: str) -> None:
        self.target = target
        self.holder = holder
        self.token = token
        self.reason = reason
        super().__init__(
            f"lost the lease for {target} (holder {holder}, token {token}): {reason}; "
            "stopped before the next write batch — another replica may be writing now, "
            "the next pass starts over"
        )


class LeaseNotFound(LeaseError):
    """`force_release` found no lease with that holder id or key."""

    def __init__(self, ident: str, store: str) -> None:
        self.ident = ident
        super().__init__(
            f"no lease held by or keyed {ident!r} in {store}; `octi-tanium lock status` "
            "lists the holders"
        )
