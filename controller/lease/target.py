"""What a lease excludes: one Tanium server and one managed source — never the whole store.

Two installations writing to different Tanium servers, or to different sources on one server,
never block each other; two replicas of one installation always do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from controller.lease.errors import LockConfigError

DEFAULT_PORTS = {"https": 443, "http": 80}


def normalise_url(url: str) -> str:
    """Scheme and host lower-case, no credentials, no default port, no query, no trailing '/'.

    `https://USER:pw@Tanium.Example.com:443/` and `https://tanium.example.com` are one target.
    """
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        raise LockConfigError(f"cannot key a lease on Tanium URL {url!r}: expected https://host")
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class Target:
    """A Tanium server (normalised URL) and the managed source name (`Settings.source`)."""

    tanium_url: str
    source: str

    @classmethod
    def of(cls, tanium_url: str, source: str) -> Target:
        return cls(normalise_url(tanium_url), source)

    @property
    def key(self) -> str:
        """A stable key: 24 hex digits of sha256(url, source); file names and store keys."""
        digest = hashlib.sha256(f"{self.tanium_url}\n{self.source}".encode())
        return digest.hexdigest()[:24]

    def __str__(self) -> str:
        return f"source {self.source!r} on {self.tanium_url}"
