"""The pivot at the edges: read the references octi-tanium made in OpenCTI, add `pivot` items
to a plan (`with_pivot`), and after an apply make OpenCTI match the documents Tanium now holds
(`pivot_after_apply`). The computation itself is pure (`controller.core.pivot`).

Settings (environment): `TANIUM_CONSOLE_URL` (default: `TANIUM_URL` with `-api` removed from
the host name), `OCTI_TANIUM_PIVOT_SOURCE_NAME` (default `Tanium`), `OCTI_TANIUM_PIVOT=off` to
turn it off. Only with `--source opencti`. OpenCTI failing is logged and never blocks or
undoes the Tanium side: the next pass converges.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from controller.core.desired import DesiredState
from controller.core.model import ActualState, Key, TaniumId
from controller.core.pivot import PivotSettings, PresentReference, pivot_items
from controller.core.plan import Plan, PlanItem
from controller.errors import OctiTaniumError
from controller.policy.located import PolicySet
from controller.render.marker import installation_id, owned_blocklist_key, owned_intel_key
from controller.retry import Timing
from controller.sources.opencti.client import GraphQLClient
from controller.sources.opencti.filters import flt, group
from controller.sources.opencti.pivot_queries import (
    ATTACH_TO_DOMAIN_OBJECT,
    ATTACH_TO_OBSERVABLE,
    DETACH_FROM_DOMAIN_OBJECT,
    DETACH_FROM_OBSERVABLE,
    REFERENCE_ADD,
    REFERENCE_DELETE,
    REFERENCES,
)

if TYPE_CHECKING:
    from controller.reconcile import SourceSpec

log = logging.getLogger("octi_tanium.pivot")


def enabled(source_kind: str) -> bool:
    off = os.environ.get("OCTI_TANIUM_PIVOT", "").strip().lower() in ("off", "false", "0", "no")
    return source_kind == "opencti" and not off and bool(os.environ.get("OPENCTI_URL"))


def console_url(api_url: str) -> str:
    """`TANIUM_CONSOLE_URL`, else the API URL with `-api` removed from its host name."""
    explicit = os.environ.get("TANIUM_CONSOLE_URL", "").strip()
    if explicit:
        return explicit.rstrip("/")
    parts = urlsplit(api_url.rstrip("/"))
    return urlunsplit(parts._replace(netloc=parts.netloc.replace("-api", ""), path=""))


def settings_for(api_url: str, source: str) -> PivotSettings:
    name = os.environ.get("OCTI_TANIUM_PIVOT_SOURCE_NAME", "").strip() or "Tanium"
    return PivotSettings(console_url(api_url), name, installation_id(source))


def owned_ids(
    actual: ActualState, installation: str
) -> tuple[dict[Key, TaniumId], dict[Key, TaniumId]]:
    intel = {k: d.id for d in actual.intel if (k := owned_intel_key(d)) is not None}
    entries = {
        k: e.id for e in actual.blocklist if (k := owned_blocklist_key(e, installation)) is not None
    }
    return intel, entries


async def read_references(octi: GraphQLClient, settings: PivotSettings) -> list[PresentReference]:
    """Every reference with the configured `source_name` (ours are picked by the core)."""
    filters = group("and", [flt("source_name", [settings.source_name])])
    out: list[PresentReference] = []
    after: str | None = None
    while True:
        data = await octi.execute(REFERENCES, {"first": 500, "after": after, "filters": filters})
        conn: dict[str, Any] = data.get("externalReferences") or {}
        for edge in conn.get("edges") or ():
            node = edge.get("node") or {}
            refs = (node.get("references") or {}).get("edges") or ()
            objects = sorted(
                {str(r["node"]["standard_id"]) for r in refs if (r.get("node") or {}).get("id")}
            )
            out.append(
                PresentReference(
                    id=str(node["id"]),
                    url=str(node.get("url") or ""),
                    source_name=str(node.get("source_name") or ""),
                    external_id=str(node.get("external_id") or ""),
                    description=str(node.get("description") or ""),
                    objects=tuple(objects),
                )
            )
        info = conn.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return out
        after = info.get("endCursor")


def _opencti() -> GraphQLClient:
    from controller.sources.opencti import OpenCTISettings

    return GraphQLClient(OpenCTISettings.from_env())


async def with_pivot(
    plan: Plan,
    source_kind: str,
    desired: DesiredState,
    actual: ActualState,
    policies: PolicySet,
    api_url: str,
    timing: Timing | None = None,
) -> Plan:
    """`plan` with the `pivot` items for the documents Tanium holds now (documents created by
    this plan get theirs when it is applied). Deletes wait while a safety guard fails."""
    if not enabled(source_kind):
        return plan
    settings = settings_for(api_url, policies.settings.source)
    try:
        async with _opencti() as octi:
            octi.timing = timing or octi.timing
            present = await read_references(octi, settings)
    except OctiTaniumError as exc:
        log.warning("pivot references unreadable, not planned: %s", exc.explain())
        return plan
    intel, entries = owned_ids(actual, settings.installation)
    items = pivot_items(desired, intel, entries, present, settings)
    failing = ", ".join(g.name for g in plan.guards if not g.ok)
    if failing:
        items = [
            replace(i, blocked=True, guard=failing) if i.action == "delete" else i for i in items
        ]
    return replace(plan, items=(*plan.items, *items))


@dataclass
class PivotReport:
    applied: int = 0
    failed: int = 0


CONCURRENCY = 8
"""Pivot items written at once (each item's own calls stay in order)."""


async def apply_pivot(
    octi: GraphQLClient, items: Sequence[PlanItem], concurrency: int = CONCURRENCY
) -> PivotReport:
    """Write the pivot items, `concurrency` at a time; a failed item is logged and counted,
    the rest go on (the next pass retries it)."""
    report = PivotReport()
    gate = asyncio.Semaphore(concurrency)

    async def one(item: PlanItem) -> None:
        async with gate:
            try:
                await _apply_one(octi, item)
                report.applied += 1
            except OctiTaniumError as exc:
                report.failed += 1
                log.warning("pivot %s %s failed: %s", item.action, item.key, exc.explain())

    todo = [i for i in items if not i.blocked and i.action != "no-op"]
    await asyncio.gather(*(one(item) for item in todo))
    return report


async def _apply_one(octi: GraphQLClient, item: PlanItem) -> None:
    if item.action == "delete":
        assert item.before is not None
        await octi.execute(REFERENCE_DELETE, {"id": item.before["id"]})
        return
    fields = dict(item.desired or {})
    attach, detach = fields.pop("attach"), fields.pop("detach")
    data = await octi.execute(REFERENCE_ADD, {"input": fields})
    ref_id = str(data["externalReferenceAdd"]["id"])
    for object_id in attach:
        operation = ATTACH_TO_DOMAIN_OBJECT if _domain(object_id) else ATTACH_TO_OBSERVABLE
        relation = {"toId": ref_id, "relationship_type": "external-reference"}
        await octi.execute(operation, {"id": object_id, "input": relation})
    for object_id in detach:
        operation = DETACH_FROM_DOMAIN_OBJECT if _domain(object_id) else DETACH_FROM_OBSERVABLE
        await octi.execute(operation, {"id": object_id, "toId": ref_id})


def _domain(standard_id: str) -> bool:
    return standard_id.startswith("indicator--")


def without_removals(items: Sequence[PlanItem]) -> list[PlanItem]:
    """`items` without deletes and detaches: what may be written while a safety guard fails
    (an incomplete source would otherwise look like objects leaving scope)."""
    kept = []
    for item in items:
        if item.action == "delete":
            continue
        if item.desired and item.desired.get("detach"):
            item = replace(item, desired={**item.desired, "detach": []})
        kept.append(item)
    return kept


async def pivot_after_apply(
    source_kind: str,
    desired: DesiredState,
    policies: PolicySet,
    timing: Timing | None = None,
    *,
    guarded: bool = False,
) -> PivotReport | None:
    """After an apply: read Tanium again (new documents have their ids now) and OpenCTI's
    references, and write the difference — without deletes or detaches when `guarded` (a
    safety guard failed). Never raises for OpenCTI's sake."""
    if not enabled(source_kind):
        return None
    from controller.reconcile import tanium_client

    try:
        async with tanium_client(timing) as tanium:
            actual = await tanium.read_state(policies.settings.source)
            settings = settings_for(tanium.url, policies.settings.source)
        async with _opencti() as octi:
            octi.timing = timing or octi.timing
            present = await read_references(octi, settings)
            intel, entries = owned_ids(actual, settings.installation)
            items = pivot_items(desired, intel, entries, present, settings)
            report = await apply_pivot(octi, without_removals(items) if guarded else items)
    except OctiTaniumError as exc:
        log.warning("pivot not written (retried next pass): %s", exc.explain())
        return None
    if report.applied or report.failed:
        log.info("pivot: %d reference change(s) written, %d failed", report.applied, report.failed)
    return report


async def pivot_after_saved_apply(
    policies_dir: Path, spec: SourceSpec, now: datetime, timing: Timing | None = None
) -> PivotReport | None:
    """After applying a saved plan: the desired state is made again from the source (the plan
    file does not carry it), then as `pivot_after_apply`."""
    if not enabled(spec.kind):
        return None
    from controller.core.desired import build_desired
    from controller.reconcile import fetch_source, load_checked

    try:
        policies = load_checked(policies_dir).policies
        snapshot = await fetch_source(spec, policies, now=now, timing=timing)
    except OctiTaniumError as exc:
        log.warning("pivot not written (retried next pass): %s", exc.explain())
        return None
    desired = build_desired(policies, snapshot, now=now)
    guarded = not snapshot.complete or not desired.size
    return await pivot_after_apply(spec.kind, desired, policies, timing, guarded=guarded)
