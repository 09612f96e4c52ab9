"""Acquire, hold, verify and release the lease of one target.

The lease is renewed by a daemon THREAD, not an asyncio task. The writes run in asyncio, but
the pass around them also runs synchronous, CPU-heavy stages (reading and diffing tens of
thousands of documents, rendering, YARA compiles) on the event loop's thread; a renewal task
would starve behind them and the lease would lapse while the process is healthy. A thread
renews whatever the loop is doing, with its own blocking client calls, and is stopped when the
lease is released. What a thread cannot survive — the whole process paused (SIGSTOP, a VM
freeze, a long GC) — is what the fencing token is for: `check()` before every write batch.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
import threading
import time
from types import TracebackType

from controller.lease.config import lock_ttl, open_store
from controller.lease.errors import LeaseLost, LeaseNotFound, LockBusy, LockStoreUnavailable
from controller.lease.store import LeaseInfo, LeaseStore
from controller.lease.target import Target

FIRST_POLL = 0.05  # seconds between tries while waiting; doubles up to MAX_POLL
MAX_POLL = 1.0


def new_holder_id() -> str:
    """`hostname:pid:random` — who holds a lease, for `lock status` and `lock release ID`."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """The lease of one target, held until `release()` (also a context manager).

    `token` is the fencing token: it grows with every acquisition of the target. Call
    `check()` (or `await acheck()`) before every write batch.
    """

    def __init__(
        self,
        store: LeaseStore,
        target: Target,
        info: LeaseInfo,
        ttl: float,
        *,
        asked_at: float,
        owns_store: bool,
    ) -> None:
        self.store = store
        self.target = target
        self.holder = info.holder
        self.token = info.token
        self.acquired_at = info.acquired_at
        self.ttl = ttl
        self._owns_store = owns_store
        self._lost: str | None = None
        self._released = False
        self._stop = threading.Event()
        # The store's expiry can only be later than this: it counts from when the store
        # granted the lease, this from before we asked (`asked_at`, time.monotonic()).
        self._deadline = asked_at + ttl
        self._renewer = threading.Thread(
            target=self._renew_loop, name=f"lease-renewal-{target.key}", daemon=True
        )
        self._renewer.start()

    @property
    def key(self) -> str:
        return self.target.key

    @property
    def lost(self) -> str | None:
        """Why the lease was lost, or None while it is believed held."""
        return self._lost

    def _lose(self, reason: str) -> None:
        if self._lost is None:
            self._lost = reason

    def _renew_loop(self) -> None:
        interval = self.ttl / 3
        while not self._stop.wait(interval):
            started = time.monotonic()
            if started >= self._deadline:
                self._lose(f"not renewed within its TTL of {self.ttl:g} s")
                return
            try:
                ok = self.store.renew(self.key, self.holder, self.token, self.ttl)
            except LockStoreUnavailable:
                interval = min(self.ttl / 10, 1.0)  # retry soon; the deadline decides
                continue
            if not ok:
                self._lose("the store no longer has it (expired, taken over, or released)")
                return
            self._deadline = started + self.ttl
            interval = self.ttl / 3

    def check(self) -> None:
        """Raise `LeaseLost` unless the store confirms that this holder, with this token,
        still holds the lease and it has not expired. One round trip to the store."""
        self.alive()
        try:
            held = self.store.check(self.key, self.holder, self.token)
        except LockStoreUnavailable as exc:
            raise self._error(f"cannot verify it: {exc}") from exc
        if not held:
            self._lose("the store no longer has it (expired, taken over, or released)")
            raise self._error(self._lost or "")

    def alive(self) -> None:
        """`check()` without the round trip: raise `LeaseLost` when the lease is known lost
        or its TTL ran out since the last renewal (this process was paused, its renewals
        failed). Cheap enough before every single write; `check()` still goes to the store."""
        if self._released:
            raise self._error("released")
        if self._lost is None and time.monotonic() >= self._deadline:
            self._lose(f"not renewed within its TTL of {self.ttl:g} s")
        if self._lost is not None:
            raise self._error(self._lost)

    async def acheck(self) -> None:
        """`check()` for the event loop: the round trip runs in a worker thread."""
        await asyncio.to_thread(self.check)

    def _error(self, reason: str) -> LeaseLost:
        return LeaseLost(str(self.target), self.holder, self.token, reason)

    def release(self) -> None:
        """Stop renewing and give the lease back (only if still ours). Idempotent."""
        if self._released:
            return
        self._released = True
        self._stop.set()
        if self._renewer is not threading.current_thread():
            self._renewer.join(timeout=10)
        try:
            self.store.release(self.key, self.holder, self.token)
        except LockStoreUnavailable:
            pass  # the lease expires on its own after its TTL
        finally:
            if self._owns_store:
                self.store.close()

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"Lease({self.target}, holder={self.holder}, token={self.token})"


def acquire(
    target: Target,
    *,
    timeout: float,
    ttl: float | None = None,
    store: LeaseStore | None = None,
    holder: str | None = None,
) -> Lease:
    """Take the lease of `target`, waiting up to `timeout` seconds (0: one try) while another
    holder has it, polling with jittered exponential backoff; then `LockBusy` names it.

    `store` defaults to `open_store()` (`OCTI_TANIUM_LOCK_URL`), `ttl` to
    `OCTI_TANIUM_LOCK_TTL` (30 s). A store opened here is closed by `Lease.release()`.
    """
    ttl = lock_ttl() if ttl is None else ttl
    owns_store = store is None
    store = store or open_store()
    holder = holder or new_holder_id()
    deadline = time.monotonic() + max(timeout, 0.0)
    poll = FIRST_POLL
    try:
        while True:
            asked_at = time.monotonic()
            grant = store.try_acquire(target.key, str(target), holder, ttl)
            if grant.granted:
                return Lease(
                    store, target, grant.info, ttl, asked_at=asked_at, owns_store=owns_store
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                theirs = grant.info
                raise LockBusy(
                    str(target), theirs.holder, theirs.acquired_at, theirs.expires_at, timeout
                )
            time.sleep(min(remaining, poll * random.uniform(0.5, 1.0)))
            poll = min(poll * 2, MAX_POLL, ttl / 4)
    except BaseException:
        if owns_store:
            store.close()
        raise


def status(target: Target | None = None, *, store: LeaseStore | None = None) -> list[LeaseInfo]:
    """The live leases: of `target`, or of every target in the store."""
    own = store is None
    store = store or open_store()
    try:
        return store.leases(target.key if target else None)
    finally:
        if own:
            store.close()


def force_release(holder_or_key: str, *, store: LeaseStore | None = None) -> list[LeaseInfo]:
    """Drop the leases held by a holder id, or the lease of a target key — for a holder that
    is dead or stuck (`octi-tanium lock release ID`). Compare-and-set: a lease that changed
    hands meanwhile is left alone. A deposed holder that is still running gets `LeaseLost`
    at its next `check()`. Raises `LeaseNotFound` when nothing matched."""
    own = store is None
    store = store or open_store()
    try:
        matched = [i for i in store.leases() if holder_or_key in (i.holder, i.key)]
        released = [i for i in matched if store.release(i.key, i.holder, i.token)]
        if not released:
            raise LeaseNotFound(holder_or_key, store.url)
        return released
    finally:
        if own:
            store.close()
