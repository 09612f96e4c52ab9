"""Intel documents: the managed source, creates, updates, and the deletes of both kinds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller.apply import labels
from controller.apply.checks import moved_since_plan
from controller.apply.report import ItemResult
from controller.core.model import DesiredIntel, TaniumId
from controller.core.plan import PlanItem

if TYPE_CHECKING:
    from controller.apply.executor import Executor

SOURCE_DESCRIPTION = (
    "Cyber threat intelligence from OpenCTI, managed by octi-tanium. Documents here are "
    "reconciled automatically: edit the policies in Git, not the documents."
)


async def ensure_source(run: Executor, name: str, writes: list[PlanItem]) -> bool:
    """The managed source exists before the first create; False when it could not be made
    (every intel write of the pass then fails, saying so)."""
    if run.source_id is not None or not any(i.action == "create" for i in writes):
        return True
    ok, source_id = await run.attempt(
        lambda: run.client.ensure_source(name, SOURCE_DESCRIPTION),
        writes,
        "the managed source could not be created: ",
    )
    run.source_id = source_id
    return ok


async def write(run: Executor, item: PlanItem) -> ItemResult:
    assert item.desired is not None
    doc = DesiredIntel.model_validate(item.desired)
    if item.action == "create":
        assert run.source_id is not None
        created = await run.client.create_intel(run.source_id, doc)
        run.content_written = True
        run.intel_ids[item.key] = created.id
        run.stored[created.id] = (created.md5, doc.digest)
        await labels.sync(run, created.id, (), doc.labels)
        return ItemResult(item, "ok", tanium_id=created.id)
    assert item.tanium_id is not None
    refused = run.ownership.refusal(item)
    if refused:
        return ItemResult(item, "failed", refused)
    intel_id = TaniumId(item.tanium_id)
    current = await run.client.get_intel(intel_id)
    moved = moved_since_plan(item, current)
    if moved:
        return ItemResult(item, "failed", moved)
    if item.reason != "labels":
        current = await run.client.update_intel(intel_id, doc, current.intrinsic_id)
        run.content_written = True
        run.stored[current.id] = (current.md5, doc.digest)
    run.intel_ids[item.key] = current.id
    await labels.sync(run, current.id, current.label_ids, doc.labels)
    return ItemResult(item, "ok", tanium_id=current.id)


async def delete(run: Executor, item: PlanItem) -> ItemResult:
    """Delete an owned document or blocklist entry (already gone counts as done)."""
    assert item.tanium_id is not None
    refused = run.ownership.refusal(item)
    if refused:
        return ItemResult(item, "failed", refused)
    subject = TaniumId(item.tanium_id)
    if item.kind == "intel":
        await run.client.delete_intel(subject)
        run.removed.add(subject)
    else:
        await run.client.blocklist_remove(subject, run.entry_hashes(subject))
    return ItemResult(item, "ok", tanium_id=item.tanium_id)
