"""Connection failures that retrying cannot fix, explained on the first attempt.

A wrong URL fails the same way six times: the retry loop would only delay a cryptic message
(`WRONG_VERSION_NUMBER`, `Name or service not known`). `explain` recognises those failures
from the exception chain and says what to check, naming the setting. The clients raise the
permanent ones at once (TLS to a plain-HTTP port, a name that does not resolve); a refused
connection may be a server restarting, so it is retried, and its message says what to check.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

_TLS_ON_PLAIN = ("WRONG_VERSION_NUMBER", "record layer failure", "HTTP_REQUEST", "UNEXPECTED_EOF")
_DNS = ("Name or service not known", "nodename nor servname", "No address associated")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


@dataclass(frozen=True)
class Explained:
    message: str
    permanent: bool
    """True: retrying cannot help (raise at once); False: it may (a server restarting), so the
    call is retried and the message explains the last failure."""


def explain(exc: BaseException, url: str, setting: str) -> Explained | None:
    """What to do about a connection failure to `url` (from `setting`, e.g. `TANIUM_URL`),
    or None for a failure we do not recognise (timeouts, resets: retried as they are)."""
    parts = urlsplit(url)
    host = parts.hostname or url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{host}:{port}"
    chain = _chain(exc)
    text = " | ".join(str(e) for e in chain)
    if (
        parts.scheme == "https"
        and (
            any(isinstance(e, ssl.SSLError) for e in chain) or any(m in text for m in _TLS_ON_PLAIN)
        )
        and "CERTIFICATE_VERIFY_FAILED" not in text
    ):
        return Explained(
            f"{setting}={url} uses https://, but {where} does not answer TLS (it looks like "
            "a plain-HTTP port): use the server's HTTPS port, or http:// for a local sandbox",
            permanent=True,
        )
    if any(isinstance(e, socket.gaierror) for e in chain) or any(m in text for m in _DNS):
        return Explained(
            f"{setting}={url}: the host name {host!r} does not resolve (DNS): check the "
            "spelling, or this machine's DNS / proxy settings",
            permanent="Temporary failure" not in text,
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or (
        "Connection refused" in text or "All connection attempts failed" in text
    ):
        return Explained(
            f"{setting}={url}: nothing accepts connections on {where} (connection refused): "
            "check the port, and that the server is running and reachable from here",
            permanent=False,
        )
    return None
