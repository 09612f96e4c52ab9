"""Labels: create the missing ones first, then attach/detach them on each written document.

A create whose name is taken (or whose reply was lost) is recovered by the client
(`TaniumWrites.create_label` looks the label up), not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from controller.apply.report import ItemResult
from controller.core.labels import label_key
from controller.core.model import TaniumId
from controller.core.plan import PlanItem
from controller.errors import RemoteError

if TYPE_CHECKING:
    from controller.apply.executor import Executor

DESCRIPTION = "Label managed by octi-tanium"


class MissingLabels(RemoteError):
    """A document's labels could not be created earlier in the pass (see the label items);
    temporary: the next pass creates them, and this pass's deletes wait."""

    product = "Tanium"
    temporary = True


async def ensure(run: Executor, item: PlanItem) -> ItemResult:
    name = item.name
    if label_key(name) in run.labels:
        return ItemResult(item, "ok", "already present")
    label = await run.client.create_label(name, DESCRIPTION)
    run.labels[label_key(name)] = label.id
    return ItemResult(item, "ok", tanium_id=label.id)


async def sync(
    run: Executor, intel_id: TaniumId, have: Sequence[TaniumId], want: Sequence[str]
) -> None:
    """Attach the labels `want` names and detach the others (`have`: attached now)."""
    want_ids = {run.labels[label_key(n)] for n in want if label_key(n) in run.labels}
    missing = [n for n in want if label_key(n) not in run.labels]
    if missing:
        raise MissingLabels(f"labels {missing} could not be created; see the label items")
    await run.client.attach_labels(intel_id, sorted(want_ids - set(have)))
    for label_id in sorted(set(have) - want_ids):
        await run.client.detach_label(intel_id, label_id)
