"""YAML policies: models and the position-keeping loader."""

from controller.policy.loader import Located, LoadResult, PolicySet, load_policies
from controller.policy.models import (
    Exclusion,
    IntelPolicy,
    IntelPolicySpec,
    Settings,
    SettingsSpec,
    StaticIntel,
)

__all__ = [
    "Exclusion",
    "IntelPolicy",
    "IntelPolicySpec",
    "LoadResult",
    "Located",
    "PolicySet",
    "Settings",
    "SettingsSpec",
    "StaticIntel",
    "load_policies",
]
