"""Document bodies for the plan's reviewers: what moved *inside* a changed document.

Tanium's listing carries no body, so the diff sees a content change as two md5s. For the
updates already known to differ (never the unchanged ones), the body is read with
`GET intels/{id}` and the change described field by field (`core.diff.changes.with_body`).
Bounded: at most `limit` documents a pass; a failed read keeps the md5s. Read-only.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from controller.core.diff.changes import needs_body, with_body
from controller.core.model import TaniumId
from controller.core.plan import Plan, PlanItem
from controller.errors import RemoteError
from controller.tanium.client import TaniumClient

DEFAULT_LIMIT = 200


async def describe_content_changes(
    plan: Plan, client: TaniumClient, *, limit: int = DEFAULT_LIMIT
) -> Plan:
    wanted = [item for item in plan.items if needs_body(item)][:limit]
    if not wanted:
        return plan

    async def described(item: PlanItem) -> PlanItem:
        try:
            doc = await client.get_intel(TaniumId(item.tanium_id or 0))
        except RemoteError:
            return item  # the md5s still say that it changed
        return item if doc.content is None else with_body(item, doc.content)

    done = await asyncio.gather(*(described(item) for item in wanted))
    by_identity = {id(old): new for old, new in zip(wanted, done, strict=True)}
    return replace(plan, items=tuple(by_identity.get(id(i), i) for i in plan.items))
