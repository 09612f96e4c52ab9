"""Side effects of a pass: the one Intel DB deploy, then the coalesced quick-scans."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from controller.apply.report import ItemResult
from controller.core.model import TaniumId
from controller.core.plan import PlanItem

if TYPE_CHECKING:
    from controller.apply.executor import Executor


async def deploy(run: Executor, items: list[PlanItem]) -> None:
    """Deploy once when intel was written or deleted in this pass, or an earlier deploy did
    not complete (`undeployed`); otherwise there is nothing to deploy."""
    deleted_intel = any(
        r.status == "ok" and r.item.kind == "intel" and r.item.action == "delete"
        for r in run.report.results
    )
    for item in items:
        if run.content_written or deleted_intel or item.reason == "undeployed":
            await run.one(item, partial(_deploy, run))
        else:
            run.done(item, "skipped", "no intel document was written")


async def _deploy(run: Executor, item: PlanItem) -> ItemResult:
    task = await run.client.deploy()
    return ItemResult(item, "ok", f"deploy task {task}")


async def scans(run: Executor, items: list[PlanItem]) -> None:
    groups: dict[str, TaniumId | None] = {}
    for item in items:
        desired = item.desired or {}
        group = str(desired.get("group", ""))
        intel_id = run.intel_ids.get(str(desired.get("intel_key", "")))
        if intel_id is None:
            run.done(item, "skipped", "its intel document was not written")
            continue
        if group not in groups:
            found, group_id = await run.attempt(
                partial(run.client.group_id_by_name, group),
                [item],
                f"computer group {group!r} lookup failed: ",
            )
            if not found:
                continue
            groups[group] = group_id
        group_id = groups[group]
        if group_id is None:
            run.done(item, "failed", f"computer group {group!r} does not exist in Tanium")
            continue
        await run.one(item, partial(_scan, run, group_id, intel_id))


async def _scan(
    run: Executor, group_id: TaniumId, intel_id: TaniumId, item: PlanItem
) -> ItemResult:
    await run.client.scan(group_id, intel_id)
    return ItemResult(item, "ok")
