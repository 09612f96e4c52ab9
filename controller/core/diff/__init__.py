"""The keyed join of desired and actual state: one comparator per concern (`labels`, `intel`,
`blocklist`), what they share in `common`, field-level changes in `changes`, and `plan`, which
runs them and assembles the plan; `memo` gives the same plan pass after pass, joining again
only the keys whose inputs moved."""

from controller.core.diff.changes import document_changes
from controller.core.diff.memo import MemoStats, PlanMemo
from controller.core.diff.plan import make_plan

__all__ = ["MemoStats", "PlanMemo", "document_changes", "make_plan"]
