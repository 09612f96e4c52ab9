"""Connection settings for the Tanium client, from the environment.

| Variable              | Meaning                                                        |
|-----------------------|----------------------------------------------------------------|
| `TANIUM_URL`          | API host root, e.g. `https://tenant-api.example.com` (required) |
| `TANIUM_TOKEN`        | API token, sent as the `session` header                        |
| `TANIUM_TOKEN_FILE`   | file holding the token (stripped); used when `TANIUM_TOKEN` is unset |
| `TANIUM_VERIFY_TLS`   | verify the server certificate (default true)                   |
| `TANIUM_CA_BUNDLE`    | PEM file of the CA(s) to trust instead of the system store     |
| `TANIUM_TIMEOUT`      | seconds per HTTP call (default 30)                             |
| `TANIUM_PAGE_SIZE`    | listing page size (default 500; the server may clamp it)       |
| `TANIUM_MAX_IN_FLIGHT`| concurrent requests per client (default 8)                     |

The token is a `SecretStr`: it is masked in `repr`, `str` and model dumps.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_HINT = "export it or run `octi-tanium sandbox` and export the lines it prints"


class TaniumSettingsError(ValueError):
    """The Tanium connection is not configured (or not readable). The message says what to do."""


class TaniumSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TANIUM_", extra="ignore")

    url: str = ""
    token: SecretStr = SecretStr("")
    token_file: Path | None = None
    verify_tls: bool = True
    ca_bundle: Path | None = None
    timeout: float = Field(30.0, gt=0)
    page_size: int = Field(500, ge=1)
    max_in_flight: int = Field(8, ge=1)

    @field_validator("url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @classmethod
    def from_env(cls) -> TaniumSettings:
        """Read the environment; raise `TaniumSettingsError` with a clear message when the URL or
        token is missing, the token file unreadable, or a value malformed."""
        try:
            settings = cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"TANIUM_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                for err in exc.errors(include_input=False)
            )
            raise TaniumSettingsError(f"invalid Tanium settings: {problems}") from None
        return settings.resolved()

    def resolved(self) -> TaniumSettings:
        """These settings with the token read from `token_file` when needed; checks both are set."""
        if not self.url:
            raise TaniumSettingsError(f"TANIUM_URL is not set: {SANDBOX_HINT}")
        if not self.url.startswith(("http://", "https://")):
            raise TaniumSettingsError(
                f"TANIUM_URL must start with https:// (or http:// for the sandbox): {self.url!r}"
            )
        if self.token.get_secret_value():
            return self
        if self.token_file is None:
            raise TaniumSettingsError(
                f"TANIUM_TOKEN is not set (nor TANIUM_TOKEN_FILE): {SANDBOX_HINT}"
            )
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise TaniumSettingsError(
                f"TANIUM_TOKEN_FILE={self.token_file} cannot be read: {type(exc).__name__}"
            ) from None
        if not token:
            raise TaniumSettingsError(f"TANIUM_TOKEN_FILE={self.token_file} is empty")
        return self.model_copy(update={"token": SecretStr(token)})

    def verify(self) -> ssl.SSLContext | bool:
        """What to give httpx as `verify`: a context trusting `ca_bundle`, or the boolean."""
        if not self.verify_tls:
            return False
        if self.ca_bundle is not None:
            try:
                return ssl.create_default_context(cafile=str(self.ca_bundle))
            except (OSError, ssl.SSLError) as exc:
                raise TaniumSettingsError(
                    f"TANIUM_CA_BUNDLE={self.ca_bundle} cannot be loaded: {exc}"
                ) from None
        return True
