"""Routes: intel sources and intel documents (`TR/sources`, `TR/intels`)."""

from __future__ import annotations

from .docs import (
    IntelFilter,
    create_intel,
    default_source,
    delete_intels,
    filtered_ids,
    get_doc,
    put_intel,
)
from .formats import IntelFormatError, ParsedIntel, Upload
from .intel import parse_content_disposition, parse_upload
from .routing import TR, RouteTable
from .web import ApiError, Ctx, Reply, bad_request, not_found, page_meta

table = RouteTable()


# ------------------------------------------------------------------------------- sources
@table.route(TR + "/sources", "GET")
def list_sources(ctx: Ctx) -> Reply:
    return Reply([s.to_json() for s in ctx.state.sources.values()])


@table.route(TR + "/sources/{id:int}", "GET")
def get_source(ctx: Ctx) -> Reply:
    source = ctx.state.sources.get(ctx.path_int("id"))
    if source is None:
        raise not_found()
    return Reply(source.to_json())


@table.route(TR + "/sources", "POST", access="intel:write")
def create_source(ctx: Ctx) -> Reply:
    body = ctx.json_object()
    name, kind, description = (
        body.get("name"),
        body.get("type", "api-client"),
        body.get("description", ""),
    )
    if not isinstance(name, str) or not name.strip():
        raise bad_request("source 'name' is required")
    if not isinstance(kind, str) or not isinstance(description, str):
        raise bad_request("source 'type' and 'description' must be strings")
    if ctx.config.duplicate_source_names == "conflict" and any(
        s.name == name for s in ctx.state.sources.values()
    ):
        raise ApiError(409, f"a source named {name!r} already exists")
    return Reply(ctx.state.add_source(name, kind, description).to_json())


# ------------------------------------------------------------------------------- uploads
def _parsed(ctx: Ctx) -> ParsedIntel:
    upload = Upload(
        body=ctx.body,
        media_type=ctx.media_type(),
        type_header=ctx.text_header("type"),
        filename=parse_content_disposition(ctx.text_header("content-disposition")),
        name=ctx.text_header("name"),
        description=ctx.text_header("description"),
    )
    try:
        return parse_upload(upload, ctx.config)
    except IntelFormatError as exc:
        raise bad_request(str(exc)) from None


@table.route(TR + "/sources/{id:int}/intels", "POST", access="intel:write")
def create_in_source(ctx: Ctx) -> Reply:
    source_id = ctx.path_int("id")
    if source_id not in ctx.state.sources:
        raise not_found()
    doc = create_intel(ctx.state, ctx.config, source_id, _parsed(ctx))
    return Reply(ctx.state.doc_json(doc))


@table.route(TR + "/intels", "POST", access="intel:write")
def create_sourceless(ctx: Ctx) -> Reply:
    parsed = _parsed(ctx)
    source = default_source(ctx.state, ctx.config)
    return Reply(ctx.state.doc_json(create_intel(ctx.state, ctx.config, source.id, parsed)))


# ------------------------------------------------------------------------------- documents
def _ints(ctx: Ctx, name: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in ctx.query_all(name) if v != "")
    except ValueError:
        raise bad_request(f"query parameter '{name}' must be an integer") from None


def _lower(ctx: Ctx, name: str) -> str | None:
    value = ctx.query_one(name)
    return value.lower() if value else None


@table.route(TR + "/intels", "GET")
def list_intels(ctx: Ctx) -> Reply:
    config, state = ctx.config, ctx.state
    flt = IntelFilter(
        name=_lower(ctx, "name"),
        description=_lower(ctx, "description"),
        types=tuple(v for v in ctx.query_all("type") if v),
        label_ids=_ints(ctx, "labelId"),
        techniques=tuple(v for v in ctx.query_all("mitreTechniqueId") if v),
        source_ids=_ints(ctx, "sourceId") if config.intel_source_filter else (),
    )
    limit = ctx.limit(config.intel_page_default, config.intel_page_max)
    offset = ctx.query_int("offset", 0)
    ids = filtered_ids(state, config, flt)
    data = [state.doc_json(state.docs[i]) for i in ids[offset : offset + limit]]
    if not config.intel_list_description:
        for item in data:
            item.pop("description", None)
    meta = page_meta(len(state.docs), len(ids)) if config.list_meta else None
    return Reply(data, meta=meta)


@table.route(TR + "/intels/{id:int}", "GET")
def get_intel(ctx: Ctx) -> Reply:
    return Reply(ctx.state.doc_json(get_doc(ctx.state, ctx.path_int("id")), full=True))


@table.route(TR + "/intels/{id:int}", "PUT", access="intel:write")
def update_intel(ctx: Ctx) -> Reply:
    doc = get_doc(ctx.state, ctx.path_int("id"))
    updated = put_intel(ctx.state, ctx.config, doc, _parsed(ctx))
    return Reply(ctx.state.doc_json(updated))


@table.route(TR + "/intels/{id:int}", "DELETE", access="intel:write")
def delete_one(ctx: Ctx) -> Reply:
    deleted = delete_intels(ctx.state, ctx.config, [ctx.path_int("id")])
    return Reply({"deleted": deleted})


@table.route(TR + "/intels", "DELETE", access="intel:write")
def delete_many(ctx: Ctx) -> Reply:
    ids = _ints(ctx, "id")
    if not ids:
        raise bad_request("query parameter 'id' is required")
    return Reply({"deleted": delete_intels(ctx.state, ctx.config, list(ids))})
