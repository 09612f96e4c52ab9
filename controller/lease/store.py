"""What every lock store does, as compare-and-set operations on one record per target key.

A record holds the holder id, the fencing token and three instants (acquired, renewed,
expires), all read from the store's own clock. Each operation is atomic in the store:

- `try_acquire` takes the record when it is free, released or expired, with a new token:
  `max(last token + 1, the store's clock in milliseconds)` — one more than the last token
  while the store remembers it, and still larger than every earlier token when it has
  forgotten it (a Redis without persistence that restarted), since earlier tokens were taken
  from an earlier clock;
- `renew`, `check` and `release` act only while holder AND token still match and the record
  has not expired, so a deposed holder can never extend, verify or drop its successor's lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True)
class LeaseInfo:
    """A lease as the store holds it (`octi-tanium lock status`)."""

    key: str
    target: str
    holder: str
    token: int
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Grant:
    """The answer to `try_acquire`: ours (`granted`), or the current holder's lease."""

    granted: bool
    info: LeaseInfo


class LeaseStore(Protocol):
    """One backend: the file lock, Redis or PostgreSQL. Safe to call from two threads."""

    @property
    def url(self) -> str:
        """Where the leases live, for messages: never a password."""
        ...

    def try_acquire(self, key: str, target: str, holder: str, ttl: float) -> Grant: ...

    def renew(self, key: str, holder: str, token: int, ttl: float) -> bool: ...

    def check(self, key: str, holder: str, token: int) -> bool: ...

    def release(self, key: str, holder: str, token: int) -> bool: ...

    def leases(self, key: str | None = None) -> list[LeaseInfo]:
        """Live (unexpired) leases, of one key or all, oldest first."""
        ...

    def close(self) -> None: ...


def from_ms(ms: int | float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
