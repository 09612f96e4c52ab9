"""Connection settings for the OpenCTI source, from the environment.

| Variable                | Meaning                                                          |
|-------------------------|------------------------------------------------------------------|
| `OPENCTI_URL`           | platform root, e.g. `https://opencti.example.com` (required); the |
|                         | source posts to `{OPENCTI_URL}/graphql`                          |
| `OPENCTI_TOKEN`         | API token, sent as `Authorization: Bearer <token>`               |
| `OPENCTI_TOKEN_FILE`    | file holding the token (stripped); used when `OPENCTI_TOKEN` is unset |
| `OPENCTI_VERIFY_TLS`    | verify the server certificate (default true)                     |
| `OPENCTI_CA_BUNDLE`     | PEM file of the CA(s) to trust instead of the system store       |
| `OPENCTI_TIMEOUT`       | seconds per HTTP call (default 60)                               |
| `OPENCTI_PAGE_SIZE`     | listing page size (default 500, at most 5000: the server's cap)  |
| `OPENCTI_MAX_ATTEMPTS`  | tries per call on 429 / 5xx / timeouts / LOCK_ERROR (default 5)  |
| `OPENCTI_RETRY_BACKOFF` | first retry delay, seconds; doubled each try, jittered (0.5)   |
| `OPENCTI_RETRY_MAX_DELAY` | longest single wait between tries, seconds (default 30)        |

The token is a `SecretStr`: it is masked in `repr`, `str` and model dumps.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_HINT = "export it or run `octi-tanium sandbox` and export the lines it prints"
MAX_PAGE_SIZE = 5000
"""OpenCTI's `elasticsearch:max_pagination_result`: above it pages are silently truncated."""


class OpenCTISettingsError(ValueError):
    """The OpenCTI connection is not configured (or not readable). The message says what to do."""


class OpenCTISettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENCTI_", extra="ignore")

    url: str = ""
    token: SecretStr = SecretStr("")
    token_file: Path | None = None
    verify_tls: bool = True
    ca_bundle: Path | None = None
    timeout: float = Field(60.0, gt=0)
    page_size: int = Field(500, ge=1, le=MAX_PAGE_SIZE)
    max_attempts: int = Field(5, ge=1, le=20)
    retry_backoff: float = Field(0.5, ge=0)
    retry_max_delay: float = Field(30.0, ge=0)

    @field_validator("url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        return value.removesuffix("/graphql")

    @classmethod
    def from_env(cls) -> OpenCTISettings:
        """Read the environment; raise `OpenCTISettingsError` with a clear message when the URL
        or token is missing, the token file unreadable, or a value malformed."""
        try:
            settings = cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"OPENCTI_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in exc.errors(include_input=False)
            )
            raise OpenCTISettingsError(f"invalid OpenCTI settings: {problems}") from None
        return settings.resolved()

    def resolved(self) -> OpenCTISettings:
        """These settings with the token read from `token_file` when needed; checks both are set."""
        if not self.url:
            raise OpenCTISettingsError(f"OPENCTI_URL is not set: {SANDBOX_HINT}")
        if not self.url.startswith(("http://", "https://")):
            raise OpenCTISettingsError(
                f"OPENCTI_URL must start with https:// (or http:// for the sandbox): {self.url!r}"
            )
        if self.token.get_secret_value():
            return self
        if self.token_file is None:
            raise OpenCTISettingsError(
                f"OPENCTI_TOKEN is not set (nor OPENCTI_TOKEN_FILE): {SANDBOX_HINT}"
            )
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise OpenCTISettingsError(
                f"OPENCTI_TOKEN_FILE={self.token_file} cannot be read: {type(exc).__name__}"
            ) from None
        if not token:
            raise OpenCTISettingsError(f"OPENCTI_TOKEN_FILE={self.token_file} is empty")
        return self.model_copy(update={"token": SecretStr(token)})

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def verify(self) -> ssl.SSLContext | bool:
        """What to give httpx as `verify`: a context trusting `ca_bundle`, or the boolean."""
        if not self.verify_tls:
            return False
        if self.ca_bundle is not None:
            try:
                return ssl.create_default_context(cafile=str(self.ca_bundle))
            except (OSError, ssl.SSLError) as exc:
                raise OpenCTISettingsError(
                    f"OPENCTI_CA_BUNDLE={self.ca_bundle} cannot be loaded: {exc}"
                ) from None
        return True
