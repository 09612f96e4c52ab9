"""Alerts: injection (test hook), filters, sort, paging and state changes (`TR/alerts`).

Filters follow the in-product API docs (SHIFTER README): repeating a parameter ORs its values,
different parameters AND; text parameters match as case-insensitive "contains";
`alertedAtFrom` is inclusive, `alertedAtUntil` exclusive. `sort` takes comma-separated columns,
`-col` descending, `+col`/`col` ascending (`+` decoded as a space is accepted).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .models import JSON, iso, parse_iso
from .state import Alert, TaniumState
from .web import TR, Ctx, Reply, RouteTable, bad_request, not_found, page_meta

table = RouteTable()

ALERT_STATES = ("unresolved", "inprogress", "resolved", "suppressed")
TIME_FIELDS = ("alertedAt", "createdAt", "updatedAt", "receivedAt", "suppressedAt", "ackedAt")
CONTAINS_FILTERS = (
    "type",
    "matchType",
    "path",
    "priority",
    "severity",
    "computerName",
    "computerIpAddress",
    "guid",
    "details",
)
SORTABLE = frozenset(
    (
        "id",
        "eid",
        "state",
        "type",
        "guid",
        "priority",
        "severity",
        "intelDocId",
        "intelDocRevisionId",
        "computerName",
        "computerIpAddress",
        "matchType",
        "path",
        *TIME_FIELDS,
    )
)


def _details(alert_id: int, doc_id: int, revision: int, moment: str) -> str:
    sha = hashlib.sha256(f"sample-{alert_id % 7}".encode()).hexdigest()
    properties = {
        "pid": 4000 + alert_id,
        "args": "C:\\Windows\\System32\\rundll32.exe zipfldr.dll,RouteTheCall calc.exe",
        "user": "CORP\\alice",
        "file": {
            "md5": sha[:32],
            "sha1": sha[:40],
            "sha256": sha,
            "fullpath": "C:\\Windows\\System32\\rundll32.exe",
        },
        "parent": {
            "pid": 3000 + alert_id,
            "args": "cmd.exe",
            "file": {"fullpath": "C:\\Windows\\System32\\cmd.exe"},
        },
    }
    intel_id = f"{doc_id}:{revision}:{uuid.uuid4()}"
    return json.dumps(
        {
            "match": {"type": "process", "source": "recorder", "properties": properties},
            "finding": {"first_seen": moment, "last_seen": moment, "intel_id": intel_id},
            "intel_id": doc_id,
            "config_id": 1,
            "config_rev_id": 1,
        }
    )


def make_alert(state: TaniumState, spec: JSON) -> Alert:
    """One alert from a partial spec (any alert field; `details` as object or JSON string)."""
    alert_id = state.next_id("alert")
    doc_id = spec.get("intelDocId")
    doc = state.docs.get(doc_id) if isinstance(doc_id, int) else None
    try:
        alerted = parse_iso(spec["alertedAt"]) if spec.get("alertedAt") else state.clock()
        created = parse_iso(spec["createdAt"]) if spec.get("createdAt") else alerted
    except (ValueError, TypeError, AttributeError):
        raise bad_request("alertedAt/createdAt must be ISO 8601 timestamps") from None
    revision = doc.revision_id if doc else 1
    data: JSON = {
        "id": alert_id,
        "eid": alert_id,
        "state": "unresolved",
        "type": "detect.match",
        "guid": str(uuid.uuid4()),
        "priority": "high",
        "severity": "info",
        "details": None,
        "intelDocId": doc_id,
        "groupingId": f"{alert_id:08x}",
        "intelDocRevisionId": revision,
        "scanConfigId": 1,
        "scanConfigRevisionId": 1,
        "computerName": f"host-{alert_id}.corp.example",
        "computerIpAddress": f"10.0.{alert_id // 250 % 250}.{alert_id % 250 + 1}",
        "matchType": "process",
        "path": "C:\\Windows\\System32\\rundll32.exe",
        "receivedAt": iso(created),
        "suppressedAt": None,
        "alertedAt": iso(alerted),
        "findingId": str(uuid.uuid4()),
        "ackedAt": None,
        "firstEIDResolutionAttempt": iso(created),
        "lastEIDResolutionAttempt": iso(created),
        "createdAt": iso(created),
        "updatedAt": iso(created),
    }
    unknown = set(spec) - set(data) - {"count"}
    if unknown:
        raise bad_request(f"unknown alert field(s): {', '.join(sorted(unknown))}")
    data.update({k: v for k, v in spec.items() if k in data and k not in ("id", "count")})
    if data["state"] not in ALERT_STATES:
        raise bad_request(f"alert state must be one of: {', '.join(ALERT_STATES)}")
    details = data["details"]
    if details is None:
        data["details"] = _details(
            alert_id, doc_id if isinstance(doc_id, int) else 0, revision, iso(alerted)
        )
    elif not isinstance(details, str):
        data["details"] = json.dumps(details)
    for name in TIME_FIELDS:
        if isinstance(data[name], str):
            data[name] = iso(parse_iso(data[name]))
    alert = Alert(alert_id, data, alerted, created)
    state.alerts[alert_id] = alert
    if isinstance(doc_id, int):
        state.alerts_by_doc[doc_id].add(alert_id)
    return alert


def inject(state: TaniumState, body: Any) -> list[Alert]:
    """Body: one spec, a list of specs, or a spec with `count` (copies of it)."""
    specs = body if isinstance(body, list) else [body]
    alerts = []
    for spec in specs:
        if not isinstance(spec, dict):
            raise bad_request("each alert must be a JSON object")
        copies = spec.get("count", 1)
        if not isinstance(copies, int) or copies < 1:
            raise bad_request("'count' must be a positive integer")
        alerts += [make_alert(state, spec) for _ in range(copies)]
    return alerts


def _time(ctx: Ctx, name: str) -> datetime | None:
    value = ctx.query_one(name)
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise bad_request(f"'{name}' must be an ISO 8601 timestamp") from None


def _contains(name: str, wanted: list[str]) -> Callable[[Alert], bool]:
    return lambda alert: any(w in str(alert.data[name]).lower() for w in wanted)


def _predicates(ctx: Ctx) -> list[Callable[[Alert], bool]]:
    state = ctx.state
    preds: list[Callable[[Alert], bool]] = []

    def doc_of(alert: Alert) -> Any:
        return state.docs.get(alert.data["intelDocId"])

    states = [s.lower() for s in ctx.query_all("state") if s]
    if states:
        preds.append(lambda a: a.data["state"] in states)
    doc_ids = {v for v in ctx.query_all("intelDocId") if v}
    if doc_ids:
        preds.append(lambda a: str(a.data["intelDocId"]) in doc_ids)
    for name in CONTAINS_FILTERS:
        wanted = [v.lower() for v in ctx.query_all(name) if v]
        if wanted:
            preds.append(_contains(name, wanted))
    types = {v for v in ctx.query_all("intelType") if v}
    if types:
        preds.append(lambda a: (d := doc_of(a)) is not None and d.type in types)
    names = [v.lower() for v in ctx.query_all("intelDocName") if v]
    if names:
        preds.append(
            lambda a: (d := doc_of(a)) is not None and any(n in d.name.lower() for n in names)
        )
    labels = [v.lower() for v in ctx.query_all("labelName") if v]
    if labels:

        def has_label(a: Alert) -> bool:
            doc = doc_of(a)
            got = [
                state.labels[i].name.lower()
                for i in (doc.label_ids if doc else [])
                if i in state.labels
            ]
            return any(w in g for w in labels for g in got)

        preds.append(has_label)
    mitre = {v for v in ctx.query_all("mitreId") if v}
    if mitre:
        preds.append(lambda a: (d := doc_of(a)) is not None and bool(mitre & d.technique_ids()))
    since, until = _time(ctx, "alertedAtFrom"), _time(ctx, "alertedAtUntil")
    if since is not None:
        preds.append(lambda a: a.alerted >= since)
    if until is not None:
        preds.append(lambda a: a.alerted < until)
    return preds


def _column(field: str) -> Callable[[Alert], tuple[bool, Any]]:
    """Sort key of one column; null values sort first."""

    def key(alert: Alert) -> tuple[bool, Any]:
        value = alert.data.get(field)
        return (value is not None, "" if value is None else value)

    return key


def _sorted(ctx: Ctx, alerts: list[Alert]) -> list[Alert]:
    result = sorted(alerts, key=lambda a: a.id)
    columns = [c.strip() for c in ",".join(ctx.query_all("sort")).split(",") if c.strip()]
    for column in reversed(columns):
        field = column.lstrip("+-").strip()
        if field not in SORTABLE:
            raise bad_request(f"unknown sort column {field!r}")
        result.sort(key=_column(field), reverse=column[0] == "-")
    return result


@table.route(TR + "/alerts", "GET", access="alerts:read")
def list_alerts(ctx: Ctx) -> Reply:
    state, config = ctx.state, ctx.config
    limit = ctx.limit(config.alerts_page_default, config.alerts_page_max)
    offset = ctx.query_int("offset", 0)
    preds = _predicates(ctx)
    matching = [a for a in state.alerts.values() if all(p(a) for p in preds)]
    page = _sorted(ctx, matching)[offset : offset + limit]
    expand = "intelDoc" in ",".join(ctx.query_all("expand")).split(",")
    return Reply(
        [_alert_json(ctx, a, expand) for a in page],
        meta=page_meta(len(state.alerts), len(matching)),
    )


def _alert_json(ctx: Ctx, alert: Alert, expand: bool) -> JSON:
    if not expand:
        return alert.data
    doc = ctx.state.docs.get(alert.data["intelDocId"])
    return {**alert.data, "intelDoc": ctx.state.doc_json(doc) if doc else None}


def _get(ctx: Ctx, alert_id: int) -> Alert:
    alert = ctx.state.alerts.get(alert_id)
    if alert is None:
        raise not_found()
    return alert


@table.route(TR + "/alerts/{id:int}", "GET", access="alerts:read")
def get_alert(ctx: Ctx) -> Reply:
    expand = "intelDoc" in ",".join(ctx.query_all("expand")).split(",")
    return Reply(_alert_json(ctx, _get(ctx, ctx.path_int("id")), expand))


def _set_state(ctx: Ctx, alerts: list[Alert]) -> None:
    new_state = ctx.json_object().get("state")
    if new_state not in ALERT_STATES:
        raise bad_request(f"'state' must be one of: {', '.join(ALERT_STATES)}")
    now = ctx.state.now()
    for alert in alerts:
        alert.data["state"] = new_state
        alert.data["updatedAt"] = now
        if new_state == "suppressed":
            alert.data["suppressedAt"] = now
        elif new_state in ("inprogress", "resolved") and alert.data["ackedAt"] is None:
            alert.data["ackedAt"] = now


@table.route(TR + "/alerts/{id:int}", "PUT", access="alerts:read")
def put_alert(ctx: Ctx) -> Reply:
    alert = _get(ctx, ctx.path_int("id"))
    _set_state(ctx, [alert])
    return Reply(alert.data)


@table.route(TR + "/alerts", "PUT", access="alerts:read")
def put_alerts(ctx: Ctx) -> Reply:
    try:
        ids = [int(v) for v in ctx.query_all("id") if v]
    except ValueError:
        raise bad_request("query parameter 'id' must be an integer") from None
    if not ids:
        raise bad_request("query parameter 'id' is required")
    alerts = [_get(ctx, i) for i in ids]
    _set_state(ctx, alerts)
    return Reply([a.data for a in alerts])
