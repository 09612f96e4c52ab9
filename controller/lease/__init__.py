"""One writer per target across replicas: a lease with a TTL and a fencing token.

    target = Target.of(tanium_url, settings.source)
    with acquire(target, timeout=lock_timeout) as lease:   # LockBusy after the timeout
        for batch in batches:
            lease.check()                                  # LeaseLost: stop writing
            write(batch)

The store is `OCTI_TANIUM_LOCK_URL`: unset → a file lock in `$OCTI_TANIUM_STATE_DIR/locks/`;
`redis://` / `rediss://` → Redis; `postgresql://` / `postgres://` → PostgreSQL. The TTL is
`OCTI_TANIUM_LOCK_TTL` (seconds, default 30). See docs/deploy.md, "One writer: leases".
"""

from controller.lease.config import lock_ttl, open_store, redact, state_dir
from controller.lease.errors import (
    LeaseError,
    LeaseLost,
    LeaseNotFound,
    LockBusy,
    LockConfigError,
    LockStoreUnavailable,
)
from controller.lease.lease import Lease, acquire, force_release, new_holder_id, status
from controller.lease.store import LeaseInfo, LeaseStore
from controller.lease.target import Target, normalise_url

__all__ = [
    "Lease",
    "LeaseError",
    "LeaseInfo",
    "LeaseLost",
    "LeaseNotFound",
    "LeaseStore",
    "LockBusy",
    "LockConfigError",
    "LockStoreUnavailable",
    "Target",
    "acquire",
    "force_release",
    "lock_ttl",
    "new_holder_id",
    "normalise_url",
    "open_store",
    "redact",
    "state_dir",
    "status",
]
