"""One writer per target: the lease as `apply` and `run` hold it.

The target is `TANIUM_URL` + `Settings.source` (`controller.lease.Target`). `apply` and
`run --once` take the lease for their one pass; `run` keeps it across passes, so one replica
stays the leader (`octi_tanium_leader` 1) while the others stand by and try again each pass.
Before every write batch the executor awaits `Leadership.before_batch`: the fencing check
against the store (a deposed leader stops there) and the graceful stop (SIGTERM: the batch in
flight finishes, nothing after it starts).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator

from controller.errors import UserError
from controller.lease import Lease, LeaseLost, Target, acquire, state_dir
from controller.run.metrics import LEADER

log = logging.getLogger("octi_tanium.lease")


class Stopping(Exception):
    """A stop was asked (SIGTERM, SIGINT): raised before the next write batch."""


def target_of(source_name: str) -> Target:
    """The lease target of this installation: `TANIUM_URL` and the managed source."""
    from controller.tanium.settings import TaniumSettings

    return Target.of(TaniumSettings.from_env().url, source_name)


def check_state_dir() -> None:
    """With the file lock (no `OCTI_TANIUM_LOCK_URL`), the state directory must be writable:
    a one-line error naming the variable, before any pass (a read-only root filesystem)."""
    if os.environ.get("OCTI_TANIUM_LOCK_URL", "").strip():
        return
    directory = state_dir()
    probe = directory / "locks"
    try:
        probe.mkdir(parents=True, exist_ok=True)
        test = probe / f".write-test-{os.getpid()}"
        test.write_bytes(b"")
        test.unlink()
    except OSError as exc:
        raise UserError(
            f"cannot write the state directory {directory} ({exc.strerror or exc}): set "
            "OCTI_TANIUM_STATE_DIR to a writable directory (in a container: a mounted volume "
            "or an emptyDir), or OCTI_TANIUM_LOCK_URL to a Redis or PostgreSQL lease"
        ) from None


class Leadership:
    """The lease of one target, held across passes; the stop flag of a graceful shutdown."""

    def __init__(self, timeout: float = 0.0) -> None:
        self.timeout = timeout
        self.lease: Lease | None = None
        self.stop = threading.Event()
        self.writing = False
        """True from the first write batch of a pass (reset by `new_pass`)."""

    def new_pass(self) -> None:
        self.writing = False

    @property
    def leading(self) -> bool:
        return self.lease is not None and self.lease.lost is None

    def ensure(self, target: Target) -> Lease:
        """The lease of `target`: the one held (verified), or a new one (`LockBusy` after
        `timeout`). A lease of another target (Settings.source renamed) is given back."""
        lease = self.lease
        if lease is not None and lease.target == target:
            try:
                lease.check()
                return lease
            except LeaseLost as exc:
                log.warning("%s", exc)
        self.release()
        self.lease = acquire(target, timeout=self.timeout)
        LEADER.set(1)
        log.info("leader for %s (holder %s, token %d)", target, self.lease.holder, self.lease.token)
        return self.lease

    async def before_batch(self) -> None:
        """Before every write batch: stop when asked to, then the fencing check (one round
        trip to the lock store)."""
        self.before_write()
        self.writing = True
        if self.lease is not None:
            try:
                await self.lease.acheck()
            except LeaseLost:
                LEADER.set(0)
                raise

    def before_write(self) -> None:
        """Before every write: stop when asked to; the lease's TTL not run out (no I/O)."""
        if self.stop.is_set():
            raise Stopping("stopped before the next write")
        if self.lease is not None:
            try:
                self.lease.alive()
            except LeaseLost:
                LEADER.set(0)
                raise

    @contextlib.contextmanager
    def held(self, source_name: str) -> Iterator[None]:
        """The lease of this installation's target for one block (`apply`)."""
        self.ensure(target_of(source_name))
        try:
            yield
        finally:
            self.release()

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()
            self.lease = None
        LEADER.set(0)
