"""Routes: labels, and labels of one intel document."""

from __future__ import annotations

from .docs import attach_label, detach_label, get_doc
from .models import IntelDoc
from .routing import TR, RouteTable
from .web import ApiError, Ctx, Reply, bad_request, not_found, page_meta

table = RouteTable()


def _doc_labels(ctx: Ctx, doc: IntelDoc) -> list[dict[str, object]]:
    state = ctx.state
    return [state.label_json(state.labels[i]) for i in doc.label_ids if i in state.labels]


@table.route(TR + "/labels", "GET")
def list_labels(ctx: Ctx) -> Reply:
    state, config = ctx.state, ctx.config
    labels = list(state.labels.values())
    if (ctx.query_one("noLimit") or "").lower() == "true":
        page = labels
    else:
        limit = ctx.query_int("limit", config.label_page_default)
        offset = ctx.query_int("offset", 0)
        page = labels[offset : offset + limit]
    meta = page_meta(len(labels), len(labels)) if config.list_meta else None
    return Reply([state.label_json(label) for label in page], meta=meta)


@table.route(TR + "/labels/{id:int}", "GET")
def get_label(ctx: Ctx) -> Reply:
    label = ctx.state.labels.get(ctx.path_int("id"))
    if label is None:
        raise not_found()
    return Reply(ctx.state.label_json(label))


@table.route(TR + "/labels", "POST", access="intel:write")
def create_label(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    name, description = body.get("name"), body.get("description", "")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("label 'name' is required")
    if not isinstance(description, str):
        raise bad_request("label 'description' must be a string")
    folded = name.casefold()
    if any(label.name.casefold() == folded for label in ctx.state.labels.values()):
        status = 409 if ctx.config.duplicate_label == "conflict" else 400
        raise ApiError(status, f"a label named {name!r} already exists")
    return Reply(ctx.state.label_json(ctx.state.add_label(name, description)))


@table.route(TR + "/intels/{id:int}/labels", "GET")
def doc_labels(ctx: Ctx) -> Reply:
    return Reply(_doc_labels(ctx, get_doc(ctx.state, ctx.path_int("id"))))


@table.route(TR + "/intels/{id:int}/labels", "PUT", access="intel:write")
def attach(ctx: Ctx) -> Reply:
    doc = get_doc(ctx.state, ctx.path_int("id"))
    body = ctx.json()
    many = isinstance(body, list) and ctx.config.label_attach_many
    items = body if many else [ctx.json_object()]
    label_ids: list[int] = []
    for item in items:
        label_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(label_id, int) or isinstance(label_id, bool):
            raise bad_request("label 'id' must be an integer")
        label_ids.append(label_id)
    for label_id in label_ids:
        attach_label(ctx.state, ctx.config, doc, label_id)
    return Reply(_doc_labels(ctx, doc))


@table.route(TR + "/intels/{id:int}/labels/{labelId:int}", "DELETE", access="intel:write")
def detach(ctx: Ctx) -> Reply:
    doc = get_doc(ctx.state, ctx.path_int("id"))
    detach_label(ctx.state, doc, ctx.path_int("labelId"))
    return Reply(_doc_labels(ctx, doc))
