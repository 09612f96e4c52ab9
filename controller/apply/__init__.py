"""The apply executor: phase order (`executor`), per-write safety checks (`checks`), per-kind
handlers (`labels`, `intel`, `blocklist`, `side_effects`), the per-item report (`report`)."""

from controller.apply.checks import StalePlanError, check_not_stale
from controller.apply.executor import Executor, TaniumWriter
from controller.apply.report import ApplyReport, ItemResult, Status

__all__ = [
    "ApplyReport",
    "Executor",
    "ItemResult",
    "StalePlanError",
    "Status",
    "TaniumWriter",
    "check_not_stale",
]
