"""The file lock: one host (or one shared filesystem), no server.

Per target key, in `$OCTI_TANIUM_STATE_DIR/locks/`:

- `<key>.lock`  a mutex: every read-modify-write of the record holds `flock` on it, briefly;
- `<key>.json`  the record — holder, token, acquired/renewed/expires — written atomically
  (rename). It stays after a release (holder cleared) so the token counter survives;
- `<key>.<holder digest>.alive`  created and `flock`ed by the holder for as long as it holds
  the lease. The kernel drops that flock when the holder dies, so a crashed holder is
  replaced at once instead of after its TTL, as the old one-flock lock did; a holder that
  is alive but paused keeps it, and is deposed only when its TTL runs out.

Times come from this host's clock: every contender reads the same one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from controller.lease.errors import LockStoreUnavailable
from controller.lease.store import Grant, LeaseInfo, from_ms


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class FileStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._alive: dict[tuple[str, str], int] = {}
        self._guard = threading.Lock()

    @property
    def url(self) -> str:
        return f"file lock in {self.directory}"

    def _alive_path(self, key: str, holder: str) -> Path:
        digest = hashlib.sha256(holder.encode()).hexdigest()[:12]
        return self.directory / f"{key}.{digest}.alive"

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[dict[str, Any] | None]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockStoreUnavailable(self.url, exc.strerror or str(exc)) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield self._read(key)
        finally:
            os.close(fd)  # drops the flock

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads((self.directory / f"{key}.json").read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable: treated as free; its token is lost, the clock seeds anew
        return record

    def _write(self, key: str, record: dict[str, Any]) -> None:
        path = self.directory / f"{key}.json"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, path)

    def _holder_is_dead(self, key: str, holder: str) -> bool:
        """True when no process holds the holder's `.alive` flock any more."""
        try:
            fd = os.open(self._alive_path(key, holder), os.O_RDWR)
        except FileNotFoundError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True

    def _live(self, record: dict[str, Any] | None, now: int) -> bool:
        return bool(record and record.get("holder") and record["expires_ms"] > now)

    def try_acquire(self, key: str, target: str, holder: str, ttl: float) -> Grant:
        with self._locked(key) as record:
            now = _now_ms()
            if (
                record
                and self._live(record, now)
                and not self._holder_is_dead(key, record["holder"])
            ):
                return Grant(False, _info(record))
            if record and record.get("holder"):
                with contextlib.suppress(OSError):
                    self._alive_path(key, record["holder"]).unlink()
            fd = os.open(self._alive_path(key, holder), os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self._guard:
                self._alive[(key, holder)] = fd
            token = max(int(record["token"]) + 1 if record else 1, now)
            mine = {
                "key": key,
                "target": target,
                "holder": holder,
                "token": token,
                "acquired_ms": now,
                "renewed_ms": now,
                "expires_ms": now + int(ttl * 1000),
            }
            self._write(key, mine)
            return Grant(True, _info(mine))

    def _owned(self, record: dict[str, Any] | None, holder: str, token: int) -> bool:
        return bool(record and record.get("holder") == holder and record["token"] == token)

    def renew(self, key: str, holder: str, token: int, ttl: float) -> bool:
        with self._locked(key) as record:
            now = _now_ms()
            if record is None or not self._owned(record, holder, token):
                return False
            if not self._live(record, now):
                return False
            record.update(renewed_ms=now, expires_ms=now + int(ttl * 1000))
            self._write(key, record)
            return True

    def check(self, key: str, holder: str, token: int) -> bool:
        with self._locked(key) as record:
            return self._owned(record, holder, token) and self._live(record, _now_ms())

    def release(self, key: str, holder: str, token: int) -> bool:
        with self._locked(key) as record:
            owned = record is not None and self._owned(record, holder, token)
            if record is not None and owned:
                now = _now_ms()
                record.update(holder=None, expires_ms=now)
                self._write(key, record)
            with self._guard:
                fd = self._alive.pop((key, holder), None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    self._alive_path(key, holder).unlink()
                os.close(fd)
            elif owned:  # released by someone else (`lock release`): the holder's file too
                with contextlib.suppress(OSError):
                    self._alive_path(key, holder).unlink()
            return owned

    def leases(self, key: str | None = None) -> list[LeaseInfo]:
        keys = [key] if key else sorted(p.stem for p in self.directory.glob("*.json"))
        now = _now_ms()
        found = []
        for k in keys:
            record = self._read(k)
            if record and self._live(record, now):
                found.append(_info(record))
        return sorted(found, key=lambda info: info.acquired_at)

    def close(self) -> None:
        with self._guard:
            fds, self._alive = list(self._alive.values()), {}
        for fd in fds:
            os.close(fd)


def _info(record: dict[str, Any]) -> LeaseInfo:
    return LeaseInfo(
        key=record["key"],
        target=record["target"],
        holder=record["holder"],
        token=int(record["token"]),
        acquired_at=from_ms(record["acquired_ms"]),
        renewed_at=from_ms(record["renewed_ms"]),
        expires_at=from_ms(record["expires_ms"]),
    )
