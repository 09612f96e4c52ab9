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

from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from controller.connection import SANDBOX_HINT, ConnectionSettings
from controller.errors import UserError

__all__ = ["MAX_PAGE_SIZE", "SANDBOX_HINT", "OpenCTISettings", "OpenCTISettingsError"]

MAX_PAGE_SIZE = 5000
"""OpenCTI's `elasticsearch:max_pagination_result`: above it pages are silently truncated."""


class OpenCTISettingsError(UserError):
    """The OpenCTI connection is not configured (or not readable). The message says what to do."""

    def explain(self) -> str:
        return f"OpenCTI: {self}"


class OpenCTISettings(ConnectionSettings):
    model_config = SettingsConfigDict(env_prefix="OPENCTI_", extra="ignore")
    product: ClassVar[str] = "OpenCTI"
    error: ClassVar[type[UserError]] = OpenCTISettingsError

    timeout: float = Field(60.0, gt=0)
    page_size: int = Field(500, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("url")
    @classmethod
    def _strip_graphql(cls, value: str) -> str:
        return value.strip().rstrip("/").removesuffix("/graphql")

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"
