"""The labels half of the diff: Tanium labels the desired intel needs and Tanium lacks. Pure.

Labels are matched case-insensitively (`label_key`); the first spelling met, in the sorted
order of the desired label sets, is the one created.
"""

from __future__ import annotations

from controller.core.desired import DesiredState
from controller.core.labels import label_key
from controller.core.model import ActualState
from controller.core.plan import PlanItem
from controller.core.reasons import Reason


def label_items(desired: DesiredState, actual: ActualState) -> list[PlanItem]:
    existing = {label_key(label.name) for label in actual.labels}
    wanted: dict[str, str] = {}
    for labels in sorted({doc.labels for doc in desired.intel.values()}):
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
