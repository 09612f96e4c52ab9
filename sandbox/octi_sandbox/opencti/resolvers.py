"""Query resolvers, and the emulator's own copy of the schema with every resolver attached.

Only the operations the controller uses are implemented; every other root field answers a
GraphQL error (after the auth check), never a silent null. Capabilities come from the
schema's own `@auth(for: [...])` directives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from graphql import (
    EnumValueNode,
    GraphQLField,
    GraphQLResolveInfo,
    GraphQLSchema,
    ListValueNode,
)

from octi_sandbox.opencti.context import Context
from octi_sandbox.opencti.errors import auth_required, forbidden, octi_error
from octi_sandbox.opencti.listing import DEFAULT_FIRST, MAX_FIRST, connection
from octi_sandbox.opencti.mutations import MUTATIONS
from octi_sandbox.opencti.mutations_knowledge import KNOWLEDGE_MUTATIONS
from octi_sandbox.opencti.records import Record
from octi_sandbox.opencti.references import REF_MUTATIONS, REF_QUERIES, attach
from octi_sandbox.opencti.schema import build_schema

Resolver = Callable[..., Any]


def _ctx(info: GraphQLResolveInfo[Context]) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context


def _listing(
    info: GraphQLResolveInfo[Context],
    family: str,
    candidates: Callable[[], Any],
    args: dict[str, Any],
    shape: str | None = None,
) -> dict[str, Any]:
    ctx = _ctx(info)
    ordered = ctx.lister.ordered(
        candidates,
        shape=shape or family,
        version=ctx.store.version,
        now=ctx.store.clock.now(),
        filters=args.get("filters"),
        search=args.get("search"),
        order_by=args.get("orderBy"),
        order_mode=args.get("orderMode"),
        head=None if args.get("after") else min(args.get("first") or DEFAULT_FIRST, MAX_FIRST),
    )
    has_field = bool(args.get("orderBy") or args.get("search"))
    return connection(
        ordered, first=args.get("first"), after=args.get("after"), has_field=has_field
    )


def indicators(_: Any, info: GraphQLResolveInfo[Context], **args: Any) -> dict[str, Any]:
    store = _ctx(info).store
    return _listing(info, "indicators", lambda: store.of_family("indicators"), args)


def observables(_: Any, info: GraphQLResolveInfo[Context], **args: Any) -> dict[str, Any]:
    store = _ctx(info).store
    types = args.get("types")
    wanted = {t.casefold() for t in types} if types else None

    def candidates() -> Any:
        for record in store.of_family("observables"):
            kinds = (record["entity_type"], *record["parent_types"])
            if wanted is None or any(k.casefold() in wanted for k in kinds):
                yield record

    shape = "observables:" + ",".join(sorted(wanted)) if wanted else "observables"
    return _listing(info, "observables", candidates, args, shape)


def markings(_: Any, info: GraphQLResolveInfo[Context], **args: Any) -> dict[str, Any]:
    store = _ctx(info).store
    return _listing(info, "markings", lambda: list(store.markings.values()), args)


def sightings(_: Any, info: GraphQLResolveInfo[Context], **args: Any) -> dict[str, Any]:
    store = _ctx(info).store
    ends = {k: store.resolve(args.get(k)) for k in ("fromId", "toId") if args.get(k)}
    if any(v is None for v in ends.values()):
        return _listing(info, "sightings", lambda: [], {**args, "filters": None})

    def candidates() -> list[Record]:
        return [
            s
            for s in store.sightings.values()
            if all(s[k] == end["id"] for k, end in ends.items() if end is not None)
        ]

    shape = "sightings:" + ",".join(f"{k}={v['id']}" for k, v in ends.items() if v is not None)
    return _listing(info, "sightings", candidates, args, shape)


def identities(_: Any, info: GraphQLResolveInfo[Context], **args: Any) -> dict[str, Any]:
    store = _ctx(info).store
    types = {t.casefold() for t in args.get("types") or ()}
    shape = "identities:" + ",".join(sorted(types))
    pick = [
        r for r in store.identities.values() if not types or r["entity_type"].casefold() in types
    ]
    return _listing(info, "identities", lambda: pick, args, shape)


def systems(_: Any, info: GraphQLResolveInfo[Context], **args: Any) -> dict[str, Any]:
    return identities(_, info, **{**args, "types": ["System"]})


def _entity(family: str) -> Resolver:
    def resolve(_: Any, info: GraphQLResolveInfo[Context], id: str) -> Record | None:
        record = _ctx(info).store.resolve(id)
        if record is None or record["id"] not in _ctx(info).store.entities:
            return None
        return (
            record if (record["entity_type"] == "Indicator") == (family == "indicators") else None
        )

    return resolve


def about(_: Any, info: GraphQLResolveInfo[Context]) -> dict[str, Any]:
    return {"version": _ctx(info).config.version, "dependencies": []}


def me(_: Any, info: GraphQLResolveInfo[Context]) -> dict[str, Any]:
    user = _ctx(info).user
    assert user is not None
    return {
        "id": "88ec0c6a-13ce-5e39-b486-354fe4a7084f",
        "standard_id": "user--" + user.token_name,
        "entity_type": "User",
        "name": f"sandbox ({user.token_name})",
        "user_email": "admin@opencti.example",
        "capabilities": [{"name": c} for c in sorted(user.capabilities)],
    }


def related(direction: str) -> Resolver:
    """`Indicator.observables(first)` / `StixCyberObservable.indicators(first)` (based-on)."""

    def resolve(record: Record, info: GraphQLResolveInfo[Context], first: int | None = None) -> Any:
        store = _ctx(info).store
        if direction == "observables":
            ids = sorted(store.based_on.get(record["id"], ()))
        else:
            ids = sorted(i for i, targets in store.based_on.items() if record["id"] in targets)
        nodes = [store.entities[i] for i in ids if i in store.entities][: first or 500]
        return {
            "edges": [{"node": n, "cursor": ""} for n in nodes],
            "pageInfo": {
                "startCursor": "",
                "endCursor": "",
                "hasNextPage": False,
                "hasPreviousPage": False,
                "globalCount": len(nodes),
            },
        }

    return resolve


QUERIES: dict[str, Resolver] = {
    "indicators": indicators,
    "indicator": _entity("indicators"),
    "stixCyberObservables": observables,
    "stixCyberObservable": _entity("observables"),
    "markingDefinitions": markings,
    "stixSightingRelationships": sightings,
    "identities": identities,
    "systems": systems,
    "about": about,
    "me": me,
}


def required_capabilities(field: GraphQLField) -> tuple[bool, tuple[str, ...]]:
    """(needs a login, any-of capabilities) from the field's `@auth` directive."""
    for directive in (field.ast_node.directives if field.ast_node else None) or ():
        if directive.name.value != "auth":
            continue
        for argument in directive.arguments or ():
            if argument.name.value == "for" and isinstance(argument.value, ListValueNode):
                return True, tuple(
                    v.value for v in argument.value.values if isinstance(v, EnumValueNode)
                )
        return True, ()
    return False, ()


def _guarded(name: str, field: GraphQLField, resolver: Resolver | None) -> Resolver:
    login, capabilities = required_capabilities(field)

    def resolve(root: Any, info: GraphQLResolveInfo[Context], **args: Any) -> Any:
        user = _ctx(info).user
        if login and user is None:
            raise auth_required()
        if capabilities and (user is None or not any(user.can(c) for c in capabilities)):
            raise forbidden()
        if resolver is None:
            raise octi_error(
                "UNSUPPORTED_ERROR",
                f"The OpenCTI emulator does not implement {info.parent_type.name}.{name}",
            )
        return resolver(root, info, **args)

    return resolve


def _serialize_datetime(value: object) -> str:
    if isinstance(value, datetime):
        value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        return (text[:-3] if value.microsecond % 1000 == 0 else text) + "Z"
    return str(value)


@cache
def emulator_schema() -> GraphQLSchema:
    """A private copy of the real schema with the emulator's resolvers (built once)."""
    schema = build_schema()
    assert schema.query_type is not None and schema.mutation_type is not None
    queries = QUERIES | REF_QUERIES
    mutations: dict[str, Resolver] = {**MUTATIONS, **KNOWLEDGE_MUTATIONS, **REF_MUTATIONS}
    for edit in ("stixDomainObjectEdit", "stixCyberObservableEdit"):
        mutations[edit] = _both(KNOWLEDGE_MUTATIONS[edit], REF_MUTATIONS[edit])
    for root, table in ((schema.query_type, queries), (schema.mutation_type, mutations)):
        for name, field in root.fields.items():
            field.resolve = _guarded(name, field, table.get(name))
    datetime_type = schema.type_map["DateTime"]
    # graphql-core 3.3 calls `coerce_output_value`, 3.2 `serialize`: set both.
    datetime_type.serialize = _serialize_datetime  # type: ignore[attr-defined]
    datetime_type.coerce_output_value = _serialize_datetime  # type: ignore[attr-defined]
    attach(schema)
    indicator = schema.type_map["Indicator"]
    indicator.fields["observables"].resolve = related("observables")  # type: ignore[attr-defined]
    interface = schema.type_map["StixCyberObservable"]
    for impl in schema.get_implementations(interface).objects:  # type: ignore[arg-type]
        impl.fields["indicators"].resolve = related("indicators")
    return schema


def _both(knowledge: Resolver, references: Resolver) -> Resolver:
    """One `…Edit(id)` root serving both the knowledge edits (fieldPatch, labels, markings,
    delete) and the external-reference edits."""

    def edit(root: Any, info: Any, **args: Any) -> dict[str, Any]:
        return {**knowledge(root, info, **args), **references(root, info, **args)}

    return edit
