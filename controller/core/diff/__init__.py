"""The keyed join of desired and actual state: one comparator per concern (intel, blocklist)."""

from controller.core.diff.intel import make_plan

__all__ = ["make_plan"]
