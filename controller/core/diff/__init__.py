"""The keyed join of desired and actual state: one comparator per concern (`labels`, `intel`,
`blocklist`), what they share in `common`, field-level changes in `changes`, and `plan`, which
runs them and assembles the plan."""

from controller.core.diff.changes import document_changes
from controller.core.diff.plan import make_plan

__all__ = ["document_changes", "make_plan"]
