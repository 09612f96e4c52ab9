"""What every resolver sees: the store, the listing cache, the caller and the configuration."""

from __future__ import annotations

from dataclasses import dataclass

from octi_sandbox.opencti.config import OpenCTIConfig
from octi_sandbox.opencti.listing import Lister
from octi_sandbox.opencti.store import Store


@dataclass(frozen=True)
class User:
    token_name: str
    capabilities: frozenset[str]

    def can(self, capability: str) -> bool:
        """`BYPASS` can do anything; a more specific capability implies its parents."""
        return (
            "BYPASS" in self.capabilities
            or capability in self.capabilities
            or any(c.startswith(capability + "_") for c in self.capabilities)
        )


@dataclass
class Context:
    store: Store
    lister: Lister
    config: OpenCTIConfig
    user: User | None
