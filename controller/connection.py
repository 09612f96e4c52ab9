"""What every connection (Tanium, OpenCTI) reads from the environment, once.

`<PREFIX>_URL`, `<PREFIX>_TOKEN` or `<PREFIX>_TOKEN_FILE`, `<PREFIX>_VERIFY_TLS` (default true),
`<PREFIX>_CA_BUNDLE`; the retry policy (`controller.retry`) from `<PREFIX>_MAX_ATTEMPTS`,
`<PREFIX>_RETRY_BACKOFF` and `<PREFIX>_RETRY_MAX_DELAY`. The token is a `SecretStr`: masked in
`repr`, `str` and model dumps, never in a message.
"""

from __future__ import annotations

import functools
import os
import ssl
from pathlib import Path
from typing import ClassVar, Self

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings

from controller.errors import UserError
from controller.retry import RetryPolicy

SANDBOX_HINT = "export it or run `octi-tanium sandbox` and export the lines it prints"


class ConnectionSettings(BaseSettings):
    """Base of the per-product settings; subclasses set `env_prefix`, `product` and `error`."""

    product: ClassVar[str] = ""
    error: ClassVar[type[UserError]] = UserError

    url: str = ""
    token: SecretStr = SecretStr("")
    token_file: Path | None = None
    verify_tls: bool = True
    ca_bundle: Path | None = None
    max_attempts: int = Field(5, ge=1, le=20)
    """Tries per call on temporary failures (429, 5xx, timeouts, resets)."""
    retry_backoff: float = Field(0.5, ge=0)
    """Upper bound of the first backoff, seconds; doubled each try, full jitter."""
    retry_max_delay: float = Field(30.0, ge=0)
    """Longest backoff between two tries, seconds (a longer `Retry-After` is still honoured)."""

    @field_validator("url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @classmethod
    def _prefix(cls) -> str:
        return str(cls.model_config.get("env_prefix", ""))

    @classmethod
    def from_env(cls) -> Self:
        """Read the environment; raise `cls.error` with a clear message when the URL or token
        is missing, the token file unreadable, or a value malformed."""
        try:
            settings = cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"{cls._prefix()}{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in exc.errors(include_input=False)
            )
            raise cls.error(f"invalid {cls.product} settings: {problems}") from None
        return settings.resolved()

    def problems(self) -> list[str]:
        """Every missing or malformed URL/token setting (all of them, not the first)."""
        prefix = self._prefix()
        found = []
        if not self.url:
            found.append(f"{prefix}URL is not set")
        elif not self.url.startswith(("http://", "https://")):
            found.append(
                f"{prefix}URL must start with https:// (or http:// for the sandbox): {self.url!r}"
            )
        if not self.token.get_secret_value() and self.token_file is None:
            found.append(f"{prefix}TOKEN is not set (nor {prefix}TOKEN_FILE)")
        return found

    def resolved(self) -> Self:
        """These settings with the token read from `token_file` when needed; checks both are set."""
        prefix = self._prefix()
        found = self.problems()
        if found:
            raise self.error(f"{'; '.join(found)}: {SANDBOX_HINT}")
        if self.token.get_secret_value():
            return self
        assert self.token_file is not None
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise self.error(
                f"{prefix}TOKEN_FILE={self.token_file} cannot be read: {type(exc).__name__}"
            ) from None
        if not token:
            raise self.error(f"{prefix}TOKEN_FILE={self.token_file} is empty")
        return self.model_copy(update={"token": SecretStr(token)})

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base_delay=self.retry_backoff,
            max_delay=self.retry_max_delay,
        )

    def verify(self) -> ssl.SSLContext | bool:
        """What to give httpx as `verify`: a context trusting `ca_bundle` (or, by default,
        what httpx trusts: `SSL_CERT_FILE`, `SSL_CERT_DIR`, else certifi), or False.

        The context is built once per trust store and shared by every client: building one
        loads the whole CA bundle (~30 ms of CPU), and a pass opens a dozen clients. A
        bundle changed on disk (size or mtime) is loaded again."""
        if not self.verify_tls:
            return False
        if self.ca_bundle is not None:
            try:
                stat = self.ca_bundle.stat()
                return _ca_context(str(self.ca_bundle), stat.st_mtime_ns, stat.st_size)
            except (OSError, ssl.SSLError) as exc:
                raise self.error(
                    f"{self._prefix()}CA_BUNDLE={self.ca_bundle} cannot be loaded: {exc}"
                ) from None
        return _default_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=8)
def _ca_context(path: str, mtime_ns: int, size: int) -> ssl.SSLContext:
    """A context trusting the bundle at `path` as it was at (`mtime_ns`, `size`)."""
    return ssl.create_default_context(cafile=path)


@functools.lru_cache(maxsize=4)
def _default_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """httpx's own default (`verify=True`) for these `SSL_CERT_FILE` / `SSL_CERT_DIR`."""
    return httpx.create_ssl_context(verify=True, trust_env=True)


def require_settings(*kinds: type[ConnectionSettings]) -> None:
    """Check the connection settings of every product a command needs, and report every
    problem at once (not the first of the first product)."""
    found: list[str] = []
    first: type[UserError] | None = None
    for kind in kinds:
        try:
            problems = kind().problems()
        except ValidationError as exc:
            problems = [
                f"{kind._prefix()}{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in exc.errors(include_input=False)
            ]
        if problems and first is None:
            first = kind.error
        found.extend(problems)
    if first is not None:
        raise first(f"{'; '.join(found)}: {SANDBOX_HINT}")


def require_connections(*, opencti: bool) -> None:
    """Every missing connection setting of a pass (Tanium, and OpenCTI when it is the
    source), reported at once."""
    from controller.tanium.settings import TaniumSettings

    kinds: list[type[ConnectionSettings]] = [TaniumSettings]
    if opencti:
        from controller.sources.opencti import OpenCTISettings

        kinds.insert(0, OpenCTISettings)
    require_settings(*kinds)
