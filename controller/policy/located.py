"""Validated policy documents with their positions: what the pure core receives from the loader."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.core.diagnostics import Position
from controller.policy.models import Exclusion, IntelPolicy, Settings, SettingsSpec, StaticIntel


@dataclass(frozen=True)
class Located:
    """A validated document and where it came from."""

    document: IntelPolicy | StaticIntel | Exclusion | Settings
    position: Position
    """Where the document starts (its first key)."""
    content: str | None = None
    """For StaticIntel: the resolved content (inline or read from `file`)."""


@dataclass(frozen=True)
class PolicySet:
    intel_policies: tuple[Located, ...] = ()
    static_intel: tuple[Located, ...] = ()
    exclusions: tuple[Located, ...] = ()
    settings: SettingsSpec = field(default_factory=SettingsSpec)
    revision: str = ""
    """A digest of every policy file's bytes: the plan's policy fingerprint."""

    @property
    def settings_name(self) -> str:
        return self.settings.source
