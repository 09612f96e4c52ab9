"""The Tanium half of `doctor`: routes, fields, deploy status, Reputation list, quick-add terms.
Read-only: GETs, and quick-add (which stores nothing — checked here by counting documents)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from controller.doctor.model import Check, fail, ok, skip
from controller.doctor.terms import compare_terms
from controller.render.terms import emitted_terms, sample_values
from controller.tanium.client import TaniumClient
from controller.tanium.deletes import other_form
from controller.tanium.errors import NotFoundError, TaniumError
from controller.tanium.reads import REP, TR

T = "Tanium"
ENTRY_FIELDS = ("md5", "sha1", "sha256", "notes")


async def tanium_checks(client: TaniumClient, source_name: str) -> list[Check]:
    checks: list[Check] = []
    try:
        sources = await client.list_sources()
    except TaniumError as exc:
        checks.append(fail(T, "API reachable at TANIUM_URL", str(exc), _fix_for(exc)))
        return checks
    checks.append(ok(T, "API reachable at TANIUM_URL", f"{len(sources)} intel sources"))
    mine = [s for s in sources if s.name == source_name]
    checks.append(
        ok(
            T,
            f"managed source {source_name!r}",
            f"id {mine[0].id}" if mine else "absent: the first apply creates it",
        )
    )
    for step in (_intel_list, _deploy_status, _reputation, _quick_add):
        checks.extend(await _guarded(step, client, source_name))
    checks.append(
        skip(
            T,
            "write permissions",
            "not checkable without writing: a missing one makes the first apply fail that "
            "route's items with a 403 naming the permission",
        )
    )
    checks.append(
        skip(
            T,
            "engine verdict on rendered documents",
            "Threat Response's Engine Analysis has no public API; read it on the intel page",
        )
    )
    return checks


async def _guarded(
    step: Callable[[TaniumClient, str], Awaitable[list[Check]]],
    client: TaniumClient,
    source_name: str,
) -> list[Check]:
    try:
        return await step(client, source_name)
    except TaniumError as exc:
        name = step.__name__.strip("_").replace("_", " ")
        return [fail(T, name, str(exc), _fix_for(exc))]


def _fix_for(exc: TaniumError) -> str:
    if exc.status in (401, 403):
        return "fix the token or its user's permissions (the message names them)"
    return "check TANIUM_URL and the network path to it (the message says what failed)"


async def _intel_list(client: TaniumClient, source_name: str) -> list[Check]:
    path = f"{TR}/intels/"
    name = "intel list answers GET intels/ (the form public clients use)"
    try:
        reply = await client.probe(path, {"limit": 5})
        out = [ok(T, name)]
    except NotFoundError:
        reply = await client.probe(other_form(path), {"limit": 5})
        out = [
            fail(
                T,
                name,
                "404 with the trailing slash, 200 without",
                "nothing to do: the controller switches to the form that answers; please "
                "report it so docs/tanium-api.md can record this server's behaviour",
            )
        ]
    items = [d for d in (reply.data or []) if isinstance(d, dict)]
    field = "intel list items carry description (the ownership marker lives there)"
    if not items:
        out.append(skip(T, field, "no documents to inspect"))
    elif all("description" in d for d in items):
        out.append(ok(T, field))
    else:
        out.append(
            fail(
                T,
                field,
                "listed documents have no description",
                "nothing to fix: each pass then fetches every document that may be ours one "
                "by one (slower on large inventories)",
            )
        )
    return out


async def _deploy_status(client: TaniumClient, source_name: str) -> list[Check]:
    status = await client.deploy_status()
    return [ok(T, "deploy status readable", f"current revision {status.current_revision}")]


async def _reputation(client: TaniumClient, source_name: str) -> list[Check]:
    name = "Reputation custom list readable"
    try:
        reply = await client.probe(f"{REP}/reputations/custom", {"limit": 5})
    except NotFoundError:
        return [
            fail(
                T,
                name,
                "404",
                "policies targeting the blocklist cannot be reconciled here (their plan shows "
                "an error and no blocklist change); remove the blocklist target, or check the "
                "Reputation module is installed",
            )
        ]
    entries = [e for e in (reply.data or []) if isinstance(e, dict)]
    if not entries:
        return [ok(T, name, "empty: entry fields not checked")]
    missing = sorted({f for e in entries for f in ENTRY_FIELDS if f not in e})
    if not missing:
        return [ok(T, name, "entries carry md5, sha1, sha256, notes")]
    seen = sorted({k for e in entries for k in e})
    return [
        fail(
            T,
            name,
            f"entries lack {', '.join(missing)} (fields seen: {', '.join(seen)})",
            "the controller finds its marker in any text field; if hashes are missing, "
            "blocklist ownership cannot be established — report it",
        )
    ]


async def _quick_add(client: TaniumClient, source_name: str) -> list[Check]:
    before = await _doc_count(client)
    xml = {
        type_name: await client.quick_add(type_name, list(values.values()))
        for type_name, values in sample_values().items()
    }
    checks = [compare_terms(emitted_terms(xml))]
    after = await _doc_count(client)
    name = "quick-add stores nothing"
    if before is None or after is None:
        checks.append(skip(T, name, "the intel list reports no total count"))
    elif after == before:
        checks.append(ok(T, name))
    else:
        checks.append(
            fail(
                T,
                name,
                f"{after - before} document(s) appeared",
                "delete the 'octi-tanium doctor' documents and report it",
            )
        )
    return checks


async def _doc_count(client: TaniumClient) -> int | None:
    try:
        reply = await client.probe(client.intels_path, {"limit": 1})
    except NotFoundError:
        reply = await client.probe(other_form(client.intels_path), {"limit": 1})
    total: Any = reply.total_count()
    return total if isinstance(total, int) else None
