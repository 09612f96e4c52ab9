"""The labels half of the diff: Tanium labels the desired intel needs and Tanium lacks. Pure.

Labels are matched case-insensitively (`label_key`); the first spelling met, in the sorted
order of the desired label sets, is the one created.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.core.desired import DesiredState
from controller.core.labels import label_key
from controller.core.model import ActualState
from controller.core.plan import PlanItem
from controller.core.reasons import Reason


def label_items(desired: DesiredState, actual: ActualState) -> list[PlanItem]:
    """The label items for `desired` (`make_plan` passes `missing_labels` the label sets
    `diff_intel` collected instead: the same sets, without another pass over the items)."""
    return missing_labels({doc.labels for doc in desired.intel.values()}, actual)


def missing_labels(label_sets: Iterable[tuple[str, ...]], actual: ActualState) -> list[PlanItem]:
    """The label items for the distinct label sets of the desired intel (`label_sets`, a
    set: a caller that counts them across passes passes its own)."""
    existing = {label_key(label.name) for label in actual.labels}
    wanted: dict[str, str] = {}
    for labels in sorted(label_sets):
        for name in labels:
            wanted.setdefault(label_key(name), name)
    return [
        PlanItem(
            action="create",
            kind="label",
            key=f"label:{k}",
            reason=Reason.NEW,
            name=name,
            desired={"name": name},
        )
        for k, name in sorted(wanted.items())
        if k not in existing
    ]
