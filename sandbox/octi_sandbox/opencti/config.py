"""How an OpenCTI emulator is set up: tokens and their capabilities, version, seed, quirks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_TOKEN = "octi-sandbox-token"
ALL_CAPABILITIES = frozenset({"BYPASS"})
READ_ONLY = frozenset({"KNOWLEDGE"})
"""Capabilities of a user who may read knowledge but not write it (no KNOWLEDGE_KNUPDATE)."""


class OpenCTIConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    """Bearer tokens accepted, each with every capability unless `capabilities` says otherwise."""
    capabilities: dict[str, frozenset[str]] = Field(default_factory=dict)
    """Token → capability names (e.g. `{"KNOWLEDGE"}` for a read-only user)."""
    version: str = "7.260817.0"
    """What `about { version }` answers (`6.9.17` to try compatibility)."""
    seed: Literal["empty", "demo"] = "empty"
    start: datetime | None = None
    """A fixed start for the emulator's clock (default: real time)."""
    reject_introspection: bool = True
    """Refuse any body containing `__schema`, as OpenCTI does by default."""
    max_query_field_uses: int = 2
    max_mutation_field_uses: int = 1
    latency_ms: float = Field(0.0, ge=0)
    """Added to every /graphql request (fault rules can add more)."""
    rate_limit: tuple[int, float] | None = None
    """(requests, seconds): above it, 429 `Too many requests, please try again later.`"""
    fault_seed: int | None = None
    """Seed of the generator behind probabilistic fault rules."""
    stream_live: bool = True
    """`false`: the stream routes answer 410, as OpenCTI does with `stream_live=false` (§9)."""
    stream_ids: tuple[str, ...] = ("octi-tanium",)
    """Live streams (`/stream/<id>`) that exist; the raw `/stream` needs BYPASS."""
    stream_retention: int = Field(100_000, ge=1)
    """Events kept (OpenCTI trims its Redis stream; older `Last-Event-ID`s are gone)."""
    stream_heartbeat: float = Field(5.0, gt=0)
    """Seconds between `heartbeat` frames (OpenCTI's default is 5)."""

    def capabilities_of(self, token: str) -> frozenset[str] | None:
        if token not in self.tokens and token not in self.capabilities:
            return None
        return self.capabilities.get(token, ALL_CAPABILITIES)
