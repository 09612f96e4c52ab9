"""Test routes under `/__sandbox/` (aliased `/__emulator/`): no auth, no faults, not counted.

Answers are bare JSON (no `data` envelope).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from .alerts import inject
from .faults import FaultRule
from .routing import Handler, RouteTable
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


@_route("/seed", "POST")
def bulk_seed(ctx: Ctx) -> Reply:
    """`{intel: {count, sourceId | sourceName, prefix}, reputation: {count, list, notes}}`."""
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
        prefix = str(intel.get("prefix", "bulk"))
        result["intel"] = state.seed_intel(_count(intel, "intel"), source_id, prefix)
        result["sourceId"] = source_id
    reputation = body.get("reputation")
    if isinstance(reputation, dict):
        result["reputation"] = state.seed_reputation(
            _count(reputation, "reputation"),
            str(reputation.get("list", "blacklist")),
            str(reputation.get("notes", "bulk")),
        )
    return _bare(result)
