"""External references (§8): `externalReferenceAdd` (upsert by standard id: uuidv5 of `{url}`,
else of `{source_name, external_id}`), attaching and detaching them through
`stixDomainObjectEdit` / `stixCyberObservableEdit` / `stixCoreObjectEdit` `.relationAdd` /
`.relationDelete` (`relationship_type: "external-reference"`), `externalReferenceEdit.delete`
(detaches it everywhere), the `externalReferences` listing (FilterGroup on `source_name`,
`external_id`, `url`) and each entity's `externalReferences` and each reference's
`references` connections. Attaching bumps the entity's `updated_at`, as OpenCTI does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from octi_sandbox.opencti.context import Context
from octi_sandbox.opencti.errors import functional, missing_reference, unsupported
from octi_sandbox.opencti.records import Record, base, standard_id
from octi_sandbox.opencti.store import Store

REF_TYPE = "external-reference"


def _store(info: GraphQLResolveInfo[Context]) -> Store:
    context = info.context
    assert isinstance(context, Context)
    return context.store


def refs(store: Store) -> dict[str, Record]:
    """The store's external references by internal id (created on first use)."""
    found: dict[str, Record] = store.__dict__.setdefault("external_refs", {})
    return found


def _page(nodes: list[Record]) -> dict[str, Any]:
    return {
        "edges": [{"node": n, "cursor": n["id"]} for n in nodes],
        "pageInfo": {
            "startCursor": nodes[0]["id"] if nodes else "",
            "endCursor": nodes[-1]["id"] if nodes else "",
            "hasNextPage": False,
            "hasPreviousPage": False,
            "globalCount": len(nodes),
        },
    }


def reference_add(_: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Record:
    store = _store(info)
    source_name = str(input.get("source_name") or "").strip()
    if not source_name:
        raise functional("source_name is required", field="source_name")
    url, external_id = input.get("url"), input.get("external_id")
    contributing = {"url": url} if url else {"source_name": source_name, "external_id": external_id}
    standard = standard_id(REF_TYPE, contributing)
    existing = store.resolve(standard)
    now = store.clock.now()
    if existing is not None:
        for key in ("description", "external_id", "source_name"):
            if input.get(key) is not None:
                existing[key] = input[key]
        existing["updated_at"] = now
        store.changed()
        return existing
    record = base(
        "ExternalReference",
        "External-Reference",
        ["Basic-Object", "Stix-Object", "Stix-Meta-Object"],
        standard,
        None,
        now,
        now,
    )
    record.update(
        source_name=source_name,
        url=url,
        external_id=external_id,
        description=input.get("description"),
        hash=None,
        created=now,
        modified=now,
        _referenced_by=[],
    )
    refs(store)[record["id"]] = record
    store.alias(record, record["id"])
    store.alias(record, standard)
    store.changed()
    return record


def _entity(store: Store, any_id: str) -> Record:
    record = store.resolve(any_id)
    if record is None or record["id"] not in store.entities:
        raise missing_reference("Element not found", id=any_id)
    return record


def _reference(store: Store, any_id: Any) -> Record:
    record = store.resolve(str(any_id)) if any_id else None
    if record is None or record["id"] not in refs(store):
        raise missing_reference("Element not found", id=any_id)
    return record


def _edit(_: Any, info: GraphQLResolveInfo[Context], id: str) -> dict[str, Any]:
    return {"_entity": _entity(_store(info), id)}


def _relation_add(root: dict[str, Any], info: GraphQLResolveInfo[Context], input: Any) -> Record:
    store = _store(info)
    if input.get("relationship_type") != REF_TYPE:
        other = root.get("relationAdd")  # labels and markings: the knowledge mutations
        if callable(other):
            return other(info, input=input)  # type: ignore[no-any-return]
        raise unsupported(f"the emulator only adds {REF_TYPE} refs")
    entity, ref = root["_entity"], _reference(store, input.get("toId"))
    attached = entity.setdefault("_refs", [])
    if ref["id"] not in attached:
        attached.append(ref["id"])
        ref["_referenced_by"].append(entity["id"])
        store.touch(entity)
    return {
        "id": f"{entity['id']}:{ref['id']}",
        "standard_id": f"relationship-meta--{ref['id']}",
        "entity_type": REF_TYPE,
        "relationship_type": REF_TYPE,
        "parent_types": ["basic-relationship", "stix-relationship", "stix-ref-relationship"],
        "from": entity,
        "to": ref,
    }


def _relation_delete(
    root: dict[str, Any], info: GraphQLResolveInfo[Context], toId: str, **args: Any
) -> Record:
    store = _store(info)
    if args.get("relationship_type") not in (None, REF_TYPE):
        other = root.get("relationDelete")  # labels and markings: the knowledge mutations
        if callable(other):
            return other(info, toId=toId, **args)  # type: ignore[no-any-return]
        raise unsupported(f"the emulator only deletes {REF_TYPE} refs")
    entity, ref = root["_entity"], _reference(store, toId)
    if ref["id"] in entity.get("_refs", []):
        entity["_refs"].remove(ref["id"])
        ref["_referenced_by"].remove(entity["id"])
        store.touch(entity)
    return entity  # type: ignore[no-any-return]


def _reference_edit(_: Any, info: GraphQLResolveInfo[Context], id: str) -> dict[str, Any]:
    return {"_ref": _reference(_store(info), id)}


def _reference_delete(root: dict[str, Any], info: GraphQLResolveInfo[Context]) -> str:
    store, ref = _store(info), root["_ref"]
    for entity_id in list(ref["_referenced_by"]):
        entity = store.entities.get(entity_id)
        if entity is not None:
            entity["_refs"].remove(ref["id"])
            store.touch(entity)
    del refs(store)[ref["id"]]
    for key in (ref["id"], ref["standard_id"]):
        store._ids.pop(key.lower(), None)
    store.changed()
    return str(ref["id"])


def _predicate(group: dict[str, Any] | None) -> Callable[[Record], bool]:
    """A FilterGroup of `eq` filters on `source_name`, `external_id`, `url` (else refused)."""
    if not group:
        return lambda record: True
    if group.get("filterGroups"):
        raise unsupported("the emulator filters external references without nested groups")
    tests: list[tuple[str, list[str]]] = []
    for item in group.get("filters") or ():
        key = item.get("key")
        key = key[0] if isinstance(key, list) else key
        if key not in ("source_name", "external_id", "url") or item.get("operator", "eq") != "eq":
            raise unsupported(f"the emulator does not filter external references on {key!r}")
        tests.append((key, [str(v) for v in item.get("values") or ()]))
    combine = all if group.get("mode", "and") == "and" else any
    return lambda record: combine(str(record.get(k)) in values for k, values in tests)


def references_list(_: Any, info: GraphQLResolveInfo[Context], **args: Any) -> dict[str, Any]:
    store = _store(info)
    keep = _predicate(args.get("filters"))
    nodes = sorted((r for r in refs(store).values() if keep(r)), key=lambda r: r["standard_id"])
    after, first = args.get("after"), args.get("first") or 500
    if after:
        nodes = [n for n in nodes if n["standard_id"] > after]
    page = nodes[:first]
    out = _page(page)
    out["pageInfo"]["hasNextPage"] = len(nodes) > first
    out["pageInfo"]["endCursor"] = page[-1]["standard_id"] if page else ""
    return out


def reference_one(_: Any, info: GraphQLResolveInfo[Context], id: str) -> Record | None:
    record = _store(info).resolve(id)
    return record if record is not None and record["id"] in refs(_store(info)) else None


def _entity_refs(record: Record, info: GraphQLResolveInfo[Context], **_: Any) -> Any:
    table = refs(_store(info))
    return _page([table[i] for i in record.get("_refs", []) if i in table])


def _referenced_by(record: Record, info: GraphQLResolveInfo[Context], **_: Any) -> Any:
    entities = _store(info).entities
    return _page([entities[i] for i in record.get("_referenced_by", []) if i in entities])


REF_MUTATIONS: dict[str, Callable[..., Any]] = {
    "externalReferenceAdd": reference_add,
    "externalReferenceEdit": _reference_edit,
    "stixDomainObjectEdit": _edit,
    "stixCyberObservableEdit": _edit,
    "stixCoreObjectEdit": _edit,
}
REF_QUERIES: dict[str, Callable[..., Any]] = {
    "externalReferences": references_list,
    "externalReference": reference_one,
}


def attach(schema: GraphQLSchema) -> None:
    """Resolvers of the nested fields (edit mutations, connections) on the emulator's schema."""
    for name in (
        "StixDomainObjectEditMutations",
        "StixCyberObservableEditMutations",
        "StixCoreObjectEditMutations",
    ):
        edit = schema.type_map[name]
        assert isinstance(edit, GraphQLObjectType)
        edit.fields["relationAdd"].resolve = _relation_add
        edit.fields["relationDelete"].resolve = _relation_delete
    ref_edit = schema.type_map["ExternalReferenceEditMutations"]
    assert isinstance(ref_edit, GraphQLObjectType)
    ref_edit.fields["delete"].resolve = _reference_delete
    reference = schema.type_map["ExternalReference"]
    assert isinstance(reference, GraphQLObjectType)
    reference.fields["references"].resolve = _referenced_by
    for type_ in schema.type_map.values():
        if (
            isinstance(type_, GraphQLObjectType)
            and "externalReferences" in type_.fields
            and type_.name != "Query"
        ):
            type_.fields["externalReferences"].resolve = _entity_refs
