"""YAML policies: models, the position-keeping loader, checks, validation and the schema."""

from controller.policy.loader import LoadResult, Located, PolicySet, load_policies
from controller.policy.models import (
    Exclusion,
    ExclusionSpec,
    IntelPolicy,
    IntelPolicySpec,
    Settings,
    SettingsSpec,
    StaticIntel,
    StaticIntelSpec,
    effective_name,
)
from controller.policy.schema import policy_schema, write_schemas
from controller.policy.static import static_hashes
from controller.policy.validate import format_json, format_text, validate

__all__ = [
    "Exclusion",
    "ExclusionSpec",
    "IntelPolicy",
    "IntelPolicySpec",
    "LoadResult",
    "Located",
    "PolicySet",
    "Settings",
    "SettingsSpec",
    "StaticIntel",
    "StaticIntelSpec",
    "effective_name",
    "format_json",
    "format_text",
    "load_policies",
    "policy_schema",
    "static_hashes",
    "validate",
    "write_schemas",
]
