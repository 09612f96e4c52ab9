"""The Tanium client: Threat Response intel, labels, deploy, scans and the Reputation custom list.

Reads produce `controller.core.model.ActualState`; writes take `DesiredIntel` / `DesiredBlocklist`.
Errors: `controller.tanium.errors` (permanent vs `temporary`). Retries: `transport`.
"""

from controller.retry import RetryPolicy
from controller.tanium.client import TaniumClient
from controller.tanium.errors import (
    AuthError,
    ConflictError,
    InconsistentListingError,
    NotFoundError,
    ProtocolError,
    RejectedError,
    TaniumError,
    TransientError,
)
from controller.tanium.mapping import DeployStatus
from controller.tanium.settings import TaniumSettings, TaniumSettingsError

__all__ = [
    "AuthError",
    "ConflictError",
    "DeployStatus",
    "InconsistentListingError",
    "NotFoundError",
    "ProtocolError",
    "RejectedError",
    "RetryPolicy",
    "TaniumClient",
    "TaniumError",
    "TaniumSettings",
    "TaniumSettingsError",
    "TransientError",
]
