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
| `TANIUM_MAX_ATTEMPTS` | tries per call on 429 / 5xx / timeouts / resets (default 6)    |
| `TANIUM_RETRY_BACKOFF`| first retry delay bound, seconds; doubled each try, jittered (0.5) |
| `TANIUM_RETRY_MAX_DELAY` | longest single wait between tries, seconds (default 30)     |

The token is a `SecretStr`: it is masked in `repr`, `str` and model dumps.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from controller.connection import SANDBOX_HINT, ConnectionSettings
from controller.errors import UserError

__all__ = ["SANDBOX_HINT", "TaniumSettings", "TaniumSettingsError"]


class TaniumSettingsError(UserError):
    """The Tanium connection is not configured (or not readable). The message says what to do."""


class TaniumSettings(ConnectionSettings):
    model_config = SettingsConfigDict(env_prefix="TANIUM_", extra="ignore")
    product: ClassVar[str] = "Tanium"
    error: ClassVar[type[UserError]] = TaniumSettingsError

    timeout: float = Field(30.0, gt=0)
    page_size: int = Field(500, ge=1)
    max_in_flight: int = Field(8, ge=1)
    max_attempts: int = Field(6, ge=1, le=20)
