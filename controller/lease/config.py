"""The environment: which store (`OCTI_TANIUM_LOCK_URL`), how long a lease lives
(`OCTI_TANIUM_LOCK_TTL`), where the file lock lives (`OCTI_TANIUM_STATE_DIR`)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from controller.lease.errors import LockConfigError
from controller.lease.store import LeaseStore

DEFAULT_TTL = 30.0
MIN_TTL = 0.5
REDIS_SCHEMES = ("redis", "rediss")
POSTGRES_SCHEMES = ("postgresql", "postgres")


def state_dir() -> Path:
    """`$OCTI_TANIUM_STATE_DIR`, else `$XDG_STATE_HOME/octi-tanium`, else
    `~/.local/state/octi-tanium` — never the working directory."""
    base = os.environ.get("OCTI_TANIUM_STATE_DIR")
    if base:
        return Path(base)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "octi-tanium"


def lock_ttl() -> float:
    raw = os.environ.get("OCTI_TANIUM_LOCK_TTL", "").strip()
    if not raw:
        return DEFAULT_TTL
    try:
        ttl = float(raw.removesuffix("s"))
    except ValueError:
        ttl = -1.0
    if not ttl >= MIN_TTL:
        raise LockConfigError(
            f"OCTI_TANIUM_LOCK_TTL={raw!r} is not a duration in seconds of at least {MIN_TTL:g} "
            f"(default {DEFAULT_TTL:g})"
        )
    return ttl


def redact(url: str) -> str:
    """The URL without its password (user, host, port, path and query kept)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def open_store(url: str | None = None, *, directory: Path | None = None) -> LeaseStore:
    """The store `url` names (default: `$OCTI_TANIUM_LOCK_URL`); unset: the file lock.

    Clients are imported here, so a file-lock installation never loads redis or psycopg.
    """
    if url is None:
        url = os.environ.get("OCTI_TANIUM_LOCK_URL", "").strip() or None
    if url is None:
        from controller.lease.file_store import FileStore

        return FileStore(directory or state_dir() / "locks")
    scheme = urlsplit(url).scheme.lower()
    if scheme in REDIS_SCHEMES:
        from controller.lease.redis_store import RedisStore

        return RedisStore(url)
    if scheme in POSTGRES_SCHEMES:
        from controller.lease.postgres_store import PostgresStore

        return PostgresStore(url)
    raise LockConfigError(
        f"OCTI_TANIUM_LOCK_URL={redact(url)!r}: unknown scheme {scheme!r}; expected "
        "redis://, rediss://, postgresql:// or postgres:// (unset: a file lock in "
        "OCTI_TANIUM_STATE_DIR)"
    )
