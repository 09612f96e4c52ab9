"""The Redis lease: a hash per target key that Redis itself expires (PEXPIRE), a token counter
beside it, and small Lua scripts so every step is one atomic compare-and-set in Redis.

Every instant is Redis's `TIME`, every expiry Redis's own TTL: the replicas' clocks never
decide who holds the lease. Keys: `<prefix>lease:<key>` and `<prefix>token:<key>`; the
prefix (default `octi-tanium:`) can be set with `?prefix=` in the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.exceptions import RedisError

from controller.lease.config import redact
from controller.lease.errors import LockStoreUnavailable
from controller.lease.store import Grant, LeaseInfo, from_ms

T = TypeVar("T")
TIMEOUT = 5.0  # seconds, for connecting and for every command

NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: lease, counter. ARGV: holder, ttl ms, target, key.
ACQUIRE = (
    NOW
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then
  local h = redis.call('HMGET', KEYS[1], 'holder', 'token', 'acquired', 'renewed', 'target')
  return {0, h[1], h[2], h[3], h[4], h[5], now + redis.call('PTTL', KEYS[1])}
end
local token = redis.call('INCR', KEYS[2])
if token < now then
  token = now
  redis.call('SET', KEYS[2], string.format('%d', token))
end
token = string.format('%d', token)
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', token, 'acquired', now,
           'renewed', now, 'target', ARGV[3], 'key', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, ARGV[1], token, now, now, ARGV[3], now + tonumber(ARGV[2])}
"""
)

OWNED = """
local h = redis.call('HMGET', KEYS[1], 'holder', 'token')
local owned = h[1] == ARGV[1] and h[2] == ARGV[2]
"""

# KEYS: lease. ARGV: holder, token, ttl ms.
RENEW = (
    OWNED
    + NOW
    + """
if not owned then return 0 end
redis.call('HSET', KEYS[1], 'renewed', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
)

CHECK = OWNED + "\nif owned then return 1 end\nreturn 0\n"
RELEASE = OWNED + "\nif not owned then return 0 end\nredis.call('DEL', KEYS[1])\nreturn 1\n"


class RedisStore:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qsl(parts.query)
        self.prefix = dict(query).get("prefix", "octi-tanium:")
        plain = urlunsplit(parts._replace(query=urlencode([q for q in query if q[0] != "prefix"])))
        self._url = redact(url)
        self.client: redis.Redis = redis.Redis.from_url(
            plain,
            decode_responses=True,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            health_check_interval=10,
        )
        self._acquire = self.client.register_script(ACQUIRE)
        self._renew = self.client.register_script(RENEW)
        self._check = self.client.register_script(CHECK)
        self._release = self.client.register_script(RELEASE)

    @property
    def url(self) -> str:
        return self._url

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except RedisError as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise LockStoreUnavailable(self.url, reason) from exc

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}lease:{key}", f"{self.prefix}token:{key}"]

    def try_acquire(self, key: str, target: str, holder: str, ttl: float) -> Grant:
        args: list[str | int] = [holder, int(ttl * 1000), target, key]
        reply: list[Any] = self._call(lambda: self._acquire(keys=self._keys(key), args=args))
        granted, who, token, acquired, renewed, label, expires = reply
        info = LeaseInfo(
            key=key,
            target=label or target,
            holder=who or "?",
            token=int(token or 0),
            acquired_at=from_ms(int(acquired or 0)),
            renewed_at=from_ms(int(renewed or 0)),
            expires_at=from_ms(int(expires)),
        )
        return Grant(bool(granted), info)

    def renew(self, key: str, holder: str, token: int, ttl: float) -> bool:
        keys = self._keys(key)[:1]
        args: list[str | int] = [holder, str(token), int(ttl * 1000)]
        return bool(self._call(lambda: self._renew(keys=keys, args=args)))

    def check(self, key: str, holder: str, token: int) -> bool:
        keys, args = self._keys(key)[:1], [holder, str(token)]
        return bool(self._call(lambda: self._check(keys=keys, args=args)))

    def release(self, key: str, holder: str, token: int) -> bool:
        keys, args = self._keys(key)[:1], [holder, str(token)]
        return bool(self._call(lambda: self._release(keys=keys, args=args)))

    def leases(self, key: str | None = None) -> list[LeaseInfo]:
        return self._call(lambda: self._leases(key))

    def _leases(self, key: str | None) -> list[LeaseInfo]:
        names = (
            [self._keys(key)[0]]
            if key
            else list(self.client.scan_iter(match=f"{_glob(self.prefix)}lease:*", count=500))
        )
        seconds, micros = self.client.time()
        now = seconds * 1000 + micros // 1000
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(name)
            pipe.pttl(name)
        replies = pipe.execute()
        found = []
        for fields, ttl in zip(replies[::2], replies[1::2], strict=True):
            if not fields or ttl < 0:
                continue
            found.append(
                LeaseInfo(
                    key=fields["key"],
                    target=fields["target"],
                    holder=fields["holder"],
                    token=int(fields["token"]),
                    acquired_at=from_ms(int(fields["acquired"])),
                    renewed_at=from_ms(int(fields["renewed"])),
                    expires_at=from_ms(now + ttl),
                )
            )
        return sorted(found, key=lambda info: info.acquired_at)

    def close(self) -> None:
        self.client.close()


def _glob(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
