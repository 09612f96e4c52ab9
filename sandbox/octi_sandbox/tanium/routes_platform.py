"""Routes: session, computer groups, intel deployment and on-demand scans."""

from __future__ import annotations

import secrets
from datetime import timedelta

from .models import Deployment, Scan, iso
from .routing import D3, TR, RouteTable
from .state import Session, TaniumState
from .web import ApiError, Ctx, Reply, bad_request, not_found

table = RouteTable()


# ------------------------------------------------------------------------------- session
@table.route("/api/v2/session/login", "POST", access="public")
def login(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or ctx.config.users.get(username) != password:
        raise ApiError(401, "Unauthorized")
    token = "token-" + secrets.token_hex(16)
    ctx.state.sessions[token] = Session(token, username, ctx.state.monotonic())
    ctx.state.counters.logins += 1
    return Reply({"session": token})


@table.route("/api/v2/session/current", "GET")
def current_session(ctx: Ctx) -> Reply:
    session = ctx.state.sessions.get(ctx.token or "")
    names = list(ctx.config.tokens)
    session_id = (
        names.index(ctx.token) + 1 if ctx.token in names else 1000 + len(ctx.state.sessions)
    )
    user = session.username if session else "api-token"
    return Reply({"id": session_id, "userId": 1, "userName": user})


# ------------------------------------------------------------------------------- groups
@table.route("/api/v2/groups/by-name/{name:path}", "GET")
def group_by_name(ctx: Ctx) -> Reply:
    name = ctx.params["name"]
    for group in ctx.state.groups.values():
        if group.name == name:
            return Reply(group.to_json())
    if ctx.config.unknown_group == "null":
        return Reply(None)
    raise not_found()


# ------------------------------------------------------------------------------- deploy
def _completed(state: TaniumState) -> Deployment | None:
    now = state.monotonic()
    done = [d for d in state.deployments if d.finished <= now]
    return done[-1] if done else None


@table.route(TR + "/intel/deploy", "POST", access="intel:deploy")
def deploy(ctx: Ctx) -> Reply:
    state, config = ctx.state, ctx.config
    now = state.monotonic()
    start = now
    if state.deployments and now < state.deployments[-1].finished:
        if config.deploy_while_running == "reject":
            raise bad_request(config.deploy_busy_message)
        start = state.deployments[-1].finished
    finish = start + config.deploy_duration_seconds
    wall = state.clock()
    deployment = Deployment(
        task_id=state.next_id("task"),
        requested_at=iso(wall),
        started=start,
        finished=finish,
        revision=len(state.deployments) + 1,
        doc_revisions={d.id: d.revision_id for d in state.docs.values()},
        finished_at=iso(wall + timedelta(seconds=finish - now)),
    )
    state.deployments.append(deployment)
    state.counters.deploys += 1
    state.undeployed_changes = 0
    return Reply({"taskId": deployment.task_id})


@table.route(TR + "/intel/status", "GET")
def deploy_status(ctx: Ctx) -> Reply:
    """The last completed deployment (a running one is not reported yet)."""
    last = _completed(ctx.state)
    if last is None:
        return Reply(
            {"createdAt": None, "modifiedAt": None, "currentRevision": 0, "currentSize": 0}
        )
    return Reply(
        {
            "createdAt": last.requested_at,
            "modifiedAt": last.finished_at,
            "currentRevision": last.revision,
            "currentSize": len(last.doc_revisions),
        }
    )


# ------------------------------------------------------------------------------- scans
def _int_field(body: dict[str, object], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(f"'{name}' must be an integer")
    return value


def _scan(ctx: Ctx) -> Reply:
    state = ctx.state
    body = ctx.json_object()
    group_id, doc_id = _int_field(body, "computerGroupId"), _int_field(body, "intelDocId")
    if group_id not in state.groups:
        raise bad_request(f"unknown computer group {group_id}")
    doc = state.docs.get(doc_id)
    if doc is None:
        raise bad_request(f"unknown intel document {doc_id}")
    scan = Scan(
        id=state.next_id("scan"),
        computer_group_id=group_id,
        intel_doc_id=doc_id,
        revision_id=doc.revision_id,
        created_at=state.now(),
        question_id=state.next_id("question") + 10000,
    )
    state.scans.append(scan)
    state.counters.scans += 1
    state.counters.scans_by_doc[doc_id] += 1
    state.counters.scans_by_group[group_id] += 1
    return Reply(scan.to_json())


table.route(TR + "/on-demand-scans", "POST", access="scan")(_scan)
table.route(D3 + "/quick-scans", "POST", access="scan")(_scan)
