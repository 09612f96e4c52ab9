"""Test routes under `/__sandbox/` (aliased `/__emulator/`): no auth, no faults, not counted.

Answers are bare JSON (no `data` envelope).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from .alerts import inject
from .faults import FaultRule
from .reputation import consolidate, parse_upload_entry
from .routing import Handler, RouteTable
from .state import IntelSeed, TaniumState
from .web import Ctx, Reply, bad_request

SANDBOX = "/__sandbox"
ALIASES = ("/__sandbox", "/__emulator")
table = RouteTable()


def _route(path: str, *methods: str) -> Callable[[Handler], Handler]:
    return table.route(SANDBOX + path, *methods, access="public")


def _bare(payload: Any) -> Reply:
    return Reply(payload, envelope=False)


def _optional_body(ctx: Ctx) -> dict[str, Any]:
    return ctx.json_object() if ctx.body.strip() else {}


@_route("/state", "GET")
def state(ctx: Ctx) -> Reply:
    contents = (ctx.query_one("contents") or "true").lower() != "false"
    return _bare(ctx.emulator.snapshot(contents))


@_route("/counters", "GET")
def counters(ctx: Ctx) -> Reply:
    """The request counters alone (`/state` lists every document: heavy at scale)."""
    return _bare(ctx.emulator.counters())


@_route("/reset", "POST")
def reset(ctx: Ctx) -> Reply:
    body = _optional_body(ctx)
    seed = body.get("seed")
    if seed not in (None, "empty", "demo"):
        raise bad_request("'seed' must be 'empty' or 'demo'")
    ctx.emulator.reset(seed, keep_config=bool(body.get("keepConfig", body.get("keep_config"))))
    return _bare({"reset": True, "seed": ctx.emulator.config.seed})


@_route("/config", "GET")
def get_config(ctx: Ctx) -> Reply:
    return _bare(ctx.emulator.config.model_dump(mode="json"))


@_route("/config", "POST")
def set_config(ctx: Ctx) -> Reply:
    try:
        config = ctx.emulator.update_config(ctx.json_object())
    except (KeyError, ValidationError) as exc:
        raise bad_request(str(exc).strip("'\"")) from None
    return _bare(config.model_dump(mode="json"))


@_route("/faults", "GET")
def list_faults(ctx: Ctx) -> Reply:
    return _bare(
        {"faults": ctx.emulator.faults.to_json(), "injected": ctx.emulator.faults.injected}
    )


@_route("/faults", "DELETE")
def clear_faults(ctx: Ctx) -> Reply:
    ctx.emulator.clear_faults()
    return _bare({"faults": []})


@_route("/faults", "POST")
def add_faults(ctx: Ctx) -> Reply:
    """Body: a rule, a list of rules, or `{faults: [...], replace?, clear?, seed?}`."""
    body = ctx.json()
    emulator = ctx.emulator
    if isinstance(body, dict) and "kind" not in body:
        if body.get("clear") or body.get("replace"):
            emulator.clear_faults()
        if "seed" in body:
            emulator.faults.reseed(body["seed"])
        body = body.get("faults", [])
    rules = body if isinstance(body, list) else [body]
    try:
        parsed = [FaultRule.model_validate(rule) for rule in rules]
    except ValidationError as exc:
        raise bad_request(f"invalid fault rule: {exc}") from None
    ids = [emulator.add_fault(rule) for rule in parsed]
    return _bare({"ids": ids, "faults": emulator.faults.to_json()})


@_route("/alerts", "POST")
def add_alerts(ctx: Ctx) -> Reply:
    return _bare([a.data for a in inject(ctx.state, ctx.json())])


@_route("/expire-sessions", "POST")
def expire_sessions(ctx: Ctx) -> Reply:
    for session in ctx.state.sessions.values():
        session.expired = True
    return _bare({"expired": len(ctx.state.sessions)})


def _count(spec: dict[str, Any], name: str) -> int:
    value = spec.get("count", 0)
    if not isinstance(value, int) or value < 0:
        raise bad_request(f"'{name}.count' must be a non-negative integer")
    return value


def _string(item: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str):
        raise bad_request(f"{where}: '{key}' must be a string")
    return value


def _label_ids(state: TaniumState, names: Any, where: str) -> list[int]:
    """The ids of labels named `names` (case-insensitively), created when absent."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad_request(f"{where}: 'labels' must be a list of label names")
    by_name = {label.name.lower(): label.id for label in state.labels.values()}
    ids = []
    for name in names:
        if name.lower() not in by_name:
            by_name[name.lower()] = state.add_label(name).id
        ids.append(by_name[name.lower()])
    return ids


def _documents(state: TaniumState, documents: Any) -> list[IntelSeed]:
    """`intel.documents`: ready documents, stored as given (no parsing, no validation)."""
    if not isinstance(documents, list):
        raise bad_request("'intel.documents' must be a list of documents")
    out = []
    for n, item in enumerate(documents):
        where = f"intel.documents[{n}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be a JSON object")
        intrinsic = item.get("intrinsicId")
        platforms = item.get("platforms")
        if intrinsic is not None and not isinstance(intrinsic, str):
            raise bad_request(f"{where}: 'intrinsicId' must be a string")
        if platforms is not None and not (
            isinstance(platforms, list) and all(isinstance(p, str) for p in platforms)
        ):
            raise bad_request(f"{where}: 'platforms' must be a list of strings")
        out.append(
            IntelSeed(
                name=_string(item, "name", where),
                contents=_string(item, "contents", where, ""),
                type=_string(item, "type", where, "openioc"),
                description=_string(item, "description", where, ""),
                intrinsic_id=intrinsic,
                label_ids=_label_ids(state, item.get("labels", []), where),
                platforms=platforms,
            )
        )
    return out


@_route("/seed", "POST")
def bulk_seed(ctx: Ctx) -> Reply:
    """Bulk seeding, without parsing or validation (tests and benchmarks).

    `{intel: {count, prefix} | {documents: [...]}, sourceId | sourceName},
    reputation: {count, list, notes} | {entries: [...]}}`. A document is
    `{name, contents, type, description, intrinsicId, labels: [names], platforms}` (labels
    created when absent, stored as given: md5 and size of `contents`); an entry is what the
    Reputation upload takes (`{list, md5, sha1, sha256, uploadedHash, notes}`, entries sharing
    a hash merged as an upload merges them). Answers the new ids, in order.
    """
    body, state = ctx.json_object(), ctx.state
    result: dict[str, Any] = {}
    intel = body.get("intel")
    if isinstance(intel, dict):
        source_id = intel.get("sourceId")
        if source_id is None:
            name = intel.get("sourceName", "Bulk")
            found = [s.id for s in state.sources.values() if s.name == name]
            source_id = found[0] if found else state.add_source(str(name)).id
        if source_id not in state.sources:
            raise bad_request(f"unknown source {source_id}")
        if "documents" in intel:
            seeds = _documents(state, intel["documents"])
            result["intel"] = state.bulk_add_intel(seeds, source_id)
        else:
            prefix = str(intel.get("prefix", "bulk"))
            result["intel"] = state.seed_intel(_count(intel, "intel"), source_id, prefix)
        result["sourceId"] = source_id
    reputation = body.get("reputation")
    if isinstance(reputation, dict):
        if "entries" in reputation:
            entries = reputation["entries"]
            if not isinstance(entries, list):
                raise bad_request("'reputation.entries' must be a list of entries")
            uploads = [
                parse_upload_entry(item, n, uppercase=False) for n, item in enumerate(entries)
            ]
            result["reputation"] = [consolidate(state, upload).id for upload in uploads]
        else:
            result["reputation"] = state.seed_reputation(
                _count(reputation, "reputation"),
                str(reputation.get("list", "blacklist")),
                str(reputation.get("notes", "bulk")),
            )
    return _bare(result)
