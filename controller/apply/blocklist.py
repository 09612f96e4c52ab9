"""Reputation blocklist entries: refuse uploads into entries we do not own, replace the
entries to update, then one batched upload."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from controller.apply.checks import foreign_clash
from controller.core.model import DesiredBlocklist, TaniumId
from controller.core.plan import PlanItem

if TYPE_CHECKING:
    from controller.apply.executor import Executor


async def write(run: Executor, items: list[PlanItem]) -> None:
    """Entries to update are removed first — whether Reputation merges an upload into an
    entry sharing a hash or appends a new one is not documented — then one batched upload."""
    if not items:
        return
    ready: list[PlanItem] = []
    foreign = run.ownership.foreign_hashes()
    for item in items:
        refused = run.ownership.refusal(item) if item.action == "update" else None
        refused = foreign_clash(item, foreign) or refused
        if refused:
            run.done(item, "failed", refused)
            continue
        if item.action == "update":  # Reputation may merge or append uploads: replace
            removed, _ = await run.attempt(
                partial(
                    run.client.blocklist_remove,
                    TaniumId(item.tanium_id or 0),
                    run.entry_hashes(TaniumId(item.tanium_id or 0)),
                ),
                [item],
                "could not remove the entry to replace: ",
            )
            if not removed:
                continue
        ready.append(item)
    entries = [DesiredBlocklist.model_validate(i.desired) for i in ready]
    uploaded, _ = await run.attempt(lambda: run.client.blocklist_add(entries), ready)
    if uploaded:
        for item in ready:
            run.done(item, "ok")
