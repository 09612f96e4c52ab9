"""Routes: alerts — filters, sort, paging, expand and state changes (`TR/alerts`).

Filters follow the in-product API docs (SHIFTER README): repeating a parameter ORs its values,
different parameters AND; text parameters match as case-insensitive "contains";
`alertedAtFrom` is inclusive, `alertedAtUntil` exclusive. `sort` takes comma-separated columns,
`-col` descending, `+col`/`col` ascending (`+` decoded as a space is accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .alerts import ALERT_STATES, TIME_FIELDS
from .models import JSON, parse_iso
from .routing import TR, RouteTable
from .state import Alert
from .web import Ctx, Reply, bad_request, not_found, page_meta

table = RouteTable()

# fmt: off
CONTAINS_FILTERS = ("type", "matchType", "path", "priority", "severity", "computerName",
                    "computerIpAddress", "guid", "details")
SORTABLE = frozenset(("id", "eid", "state", "type", "guid", "priority", "severity", "intelDocId",
                      "intelDocRevisionId", "computerName", "computerIpAddress", "matchType",
                      "path", *TIME_FIELDS))
# fmt: on


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
