"""The PostgreSQL lease: one row per target key in `octi_tanium_leases` (created if missing,
in the first schema of the connection's `search_path`), taken and renewed by single
compare-and-set statements.

Every instant is the database's `now()`, so the replicas' clocks never decide who holds the
lease. The row outlives a release (holder cleared), and its `token` column is the counter: a
takeover raises it in the same statement that changes the holder. Set a schema with
`?options=-csearch_path%3Dmyschema` in the URL.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from controller.lease.config import redact
from controller.lease.errors import LockStoreUnavailable
from controller.lease.store import Grant, LeaseInfo

T = TypeVar("T")
TIMEOUT = 5  # seconds, for connecting and for every statement

DDL = """
CREATE TABLE IF NOT EXISTS octi_tanium_leases (
    key         text PRIMARY KEY,
    target      text NOT NULL,
    holder      text,
    token       bigint NOT NULL,
    acquired_at timestamptz NOT NULL,
    renewed_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
)
"""
COLUMNS = "key, target, holder, token, acquired_at, renewed_at, expires_at"
NOW_MS = "(extract(epoch FROM now()) * 1000)::bigint"
TTL = "now() + %(ttl)s * interval '1 millisecond'"

ACQUIRE = f"""
INSERT INTO octi_tanium_leases AS l ({COLUMNS})
VALUES (%(key)s, %(target)s, %(holder)s, greatest(1, {NOW_MS}), now(), now(), {TTL})
ON CONFLICT (key) DO UPDATE
   SET target = excluded.target, holder = excluded.holder,
       token = greatest(l.token + 1, {NOW_MS}),
       acquired_at = now(), renewed_at = now(), expires_at = excluded.expires_at
 WHERE l.holder IS NULL OR l.expires_at <= now()
RETURNING {COLUMNS}
"""
OWNED = "key = %(key)s AND holder = %(holder)s AND token = %(token)s"
RENEW = f"""
UPDATE octi_tanium_leases SET renewed_at = now(), expires_at = {TTL}
 WHERE {OWNED} AND expires_at > now()
"""
CHECK = f"SELECT 1 FROM octi_tanium_leases WHERE {OWNED} AND expires_at > now()"
RELEASE = f"UPDATE octi_tanium_leases SET holder = NULL, expires_at = now() WHERE {OWNED}"
LIVE = f"SELECT {COLUMNS} FROM octi_tanium_leases WHERE holder IS NOT NULL AND expires_at > now()"


class PostgresStore:
    def __init__(self, url: str) -> None:
        self._conninfo = url
        self._url = redact(url)
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[dict[str, Any]] | None = None
        self._call(lambda conn: None)  # connect now: a wrong URL fails at startup

    @property
    def url(self) -> str:
        return self._url

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        conn = psycopg.connect(
            self._conninfo, autocommit=True, connect_timeout=TIMEOUT, row_factory=dict_row
        )
        conn.execute(f"SET statement_timeout = {TIMEOUT * 1000}")
        # another replica may create it at the same instant
        with contextlib.suppress(psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
            conn.execute(DDL)
        return conn

    def _call(self, fn: Callable[[psycopg.Connection[dict[str, Any]]], T]) -> T:
        with self._lock:
            try:
                if self._conn is None or self._conn.closed or self._conn.broken:
                    self._conn = self._connect()
                return fn(self._conn)
            except psycopg.Error as exc:
                if self._conn is not None and (self._conn.closed or self._conn.broken):
                    self._conn = None  # reconnect on the next call
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise LockStoreUnavailable(self.url, reason) from exc

    def try_acquire(self, key: str, target: str, holder: str, ttl: float) -> Grant:
        params = {"key": key, "target": target, "holder": holder, "ttl": int(ttl * 1000)}
        for _ in range(3):  # the holder may leave between the two statements: ask again
            mine = self._call(lambda conn: conn.execute(ACQUIRE, params).fetchone())
            if mine is not None:
                return Grant(True, _info(mine))
            theirs = self._call(
                lambda conn: conn.execute(f"{LIVE} AND key = %(key)s", params).fetchone()
            )
            if theirs is not None:
                return Grant(False, _info(theirs))
        raise LockStoreUnavailable(self.url, f"the lease row {key} keeps changing hands")

    def _owned(self, sql: str, key: str, holder: str, token: int, ttl: float = 0) -> bool:
        params = {"key": key, "holder": holder, "token": token, "ttl": int(ttl * 1000)}
        return self._call(lambda conn: conn.execute(sql, params).rowcount == 1)

    def renew(self, key: str, holder: str, token: int, ttl: float) -> bool:
        return self._owned(RENEW, key, holder, token, ttl)

    def check(self, key: str, holder: str, token: int) -> bool:
        return self._owned(CHECK, key, holder, token)

    def release(self, key: str, holder: str, token: int) -> bool:
        return self._owned(RELEASE, key, holder, token)

    def leases(self, key: str | None = None) -> list[LeaseInfo]:
        sql = f"{LIVE} AND key = %(key)s" if key else LIVE
        rows = self._call(lambda conn: conn.execute(sql, {"key": key}).fetchall())
        return sorted((_info(row) for row in rows), key=lambda info: info.acquired_at)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _info(row: dict[str, Any]) -> LeaseInfo:
    return LeaseInfo(
        key=row["key"],
        target=row["target"],
        holder=row["holder"],
        token=int(row["token"]),
        acquired_at=_utc(row["acquired_at"]),
        renewed_at=_utc(row["renewed_at"]),
        expires_at=_utc(row["expires_at"]),
    )
