"""Mutations a user's tools send to change knowledge (what pycti's `indicator.create`,
`stix_cyber_observable.create`, `stix_domain_object.update_field`, `add_label` /
`remove_label` and `delete` send), so that tests and demos change OpenCTI as people do:

- `indicatorAdd(input)`: OpenCTI's defaults (§6, §12) through `loader.create_indicator`;
  an indicator with the same pattern is updated in place (OpenCTI's upsert);
- `stixCyberObservableAdd(type, <Type>: {...})`: value or hashes per type (§7);
- `labelAdd(input)`: get-or-create by value;
- `stixDomainObjectEdit(id)` / `stixCyberObservableEdit(id)` → `fieldPatch(input)` (REPLACE,
  or `add` / `remove` for multi-valued keys), `relationAdd(input)` / `relationDelete(toId,
  relationship_type)` for `object-label` and `object-marking`, and `delete`;
- `stixEdit(id)` → `merge(stixObjectsIds)`: the sources' labels, markings and ids move to the
  target, the sources are gone, the target's `updated_at` moves, one `merge` event.

Every change goes through the store, so it bumps `updated_at` and is a live-stream event.
Ids resolve as everywhere (internal id, standard id, `x_opencti_stix_ids`; a label or marking
also by its value / definition).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo

from octi_sandbox.opencti import loader
from octi_sandbox.opencti.context import Context
from octi_sandbox.opencti.errors import functional, missing_reference
from octi_sandbox.opencti.mutations import _date
from octi_sandbox.opencti.records import Record
from octi_sandbox.opencti.store import Store

# EditInput keys → the record's field (and how to read the value).
_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "name": ("name", str),
    "description": ("description", str),
    "x_opencti_description": ("x_opencti_description", str),
    "pattern": ("pattern", str),
    "revoked": ("revoked", lambda v: str(v).lower() == "true" if isinstance(v, str) else bool(v)),
    "x_opencti_detection": (
        "x_opencti_detection",
        lambda v: str(v).lower() == "true" if isinstance(v, str) else bool(v),
    ),
    "x_opencti_score": ("x_opencti_score", int),
    "confidence": ("confidence", int),
    "valid_from": ("valid_from", _date),
    "valid_until": ("valid_until", _date),
    "value": ("value", str),
}
_OBSERVABLE_INPUTS = {
    "IPv4Addr": "IPv4-Addr", "IPv6Addr": "IPv6-Addr", "DomainName": "Domain-Name",
    "Hostname": "Hostname", "Url": "Url", "StixFile": "StixFile", "Artifact": "Artifact",
    "EmailAddr": "Email-Addr", "MacAddr": "Mac-Addr", "Mutex": "Mutex",
}  # fmt: skip


def _store(info: GraphQLResolveInfo[Context]) -> Store:
    context = info.context
    assert isinstance(context, Context)
    return context.store


def _names(store: Store, refs: list[Any] | None, field: str) -> list[str]:
    """Label values (`field="value"`) or marking definitions (`"definition"`) of refs given
    as ids or as the names themselves."""
    out = []
    for ref in refs or ():
        found = store.resolve(str(ref))
        out.append(found[field] if found is not None and field in found else str(ref))
    return out


def _label_values(store: Store, refs: list[Any] | None) -> list[str]:
    return _names(store, refs, "value")


def _marking_names(store: Store, refs: list[Any] | None) -> list[str]:
    return _names(store, refs, "definition")


def indicator_add(_: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Record:
    store = _store(info)
    if len(str(input.get("name") or "").strip()) < 2:
        raise functional("name must be at least 2 characters")
    return loader.create_indicator(
        store,
        pattern=input["pattern"],
        pattern_type=input["pattern_type"],
        name=input["name"],
        description=input.get("description"),
        labels=_label_values(store, input.get("objectLabel")),
        markings=_marking_names(store, input.get("objectMarking")),
        score=input.get("x_opencti_score"),
        detection=input.get("x_opencti_detection"),
        valid_from=_date(input.get("valid_from")),
        valid_until=_date(input.get("valid_until")),
        platforms=input.get("x_mitre_platforms") or (),
        main_type=input.get("x_opencti_main_observable_type"),
        confidence=input.get("confidence"),
    )


def observable_add(_: Any, info: GraphQLResolveInfo[Context], type: str, **args: Any) -> Record:
    store = _store(info)
    key = type.replace("-", "")
    entity_type = _OBSERVABLE_INPUTS.get(key)
    if entity_type is None:
        raise functional(f"The OpenCTI emulator does not create observables of type {type}")
    fields = args.get(key) or {}
    hashes = {h["algorithm"]: h["hash"] for h in fields.get("hashes") or () if h}
    return loader.create_observable(
        store,
        entity_type=entity_type,
        value=fields.get("value"),
        hashes=hashes,
        name=fields.get("name"),
        description=args.get("x_opencti_description"),
        labels=_label_values(store, args.get("objectLabel")),
        markings=_marking_names(store, args.get("objectMarking")),
        score=args.get("x_opencti_score"),
    )


def label_add(_: Any, info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Record:
    store = _store(info)
    for existing in store.labels.values():  # OpenCTI's labels are unique case-insensitively
        if existing["value"].lower() == str(input["value"]).strip().lower():
            return existing
    return store.label(str(input["value"]).strip())


def _edit(_: Any, info: GraphQLResolveInfo[Context], id: str) -> dict[str, Any]:
    store = _store(info)
    record = store.resolve(id)
    if record is None or record["id"] not in store.entities:
        raise missing_reference("Cant find element to update", id=id)

    def field_patch(info: GraphQLResolveInfo[Context], input: list[Any], **_: Any) -> Record:
        changes: dict[str, Any] = {}
        for edit in input:
            key, values = edit["key"], list(edit.get("value") or [])
            operation = (edit.get("operation") or "replace").lower()
            if key == "objectLabel":
                current = [label["value"] for label in record.get("objectLabel") or ()]
                changes["labels"] = _merge(current, _label_values(store, values), operation)
            elif key == "objectMarking":
                current = [m["definition"] for m in record.get("objectMarking") or ()]
                changes["markings"] = _merge(current, _marking_names(store, values), operation)
            elif key in _FIELDS:
                name, read = _FIELDS[key]
                changes[name] = read(values[0]) if values and values[0] is not None else None
            else:
                raise functional(f"The OpenCTI emulator does not patch {key!r}")
        return store.update(record["id"], changes)

    def relation_add(info: GraphQLResolveInfo[Context], input: dict[str, Any]) -> Record:
        kind, to = input["relationship_type"], input.get("toId")
        field_patch(info, [{"key": _REF_KEYS[kind], "value": [to], "operation": "add"}])
        target = store.resolve(str(to)) or {}
        return {
            "id": f"relationship--{record['id']}-{target.get('id', to)}",
            "relationship_type": kind,
            "from": record,
            "to": target,
        }

    def relation_delete(
        info: GraphQLResolveInfo[Context], toId: str, relationship_type: str = "object-label"
    ) -> Record:
        return field_patch(
            info, [{"key": _REF_KEYS[relationship_type], "value": [toId], "operation": "remove"}]
        )

    def delete(info: GraphQLResolveInfo[Context]) -> str:
        store.delete(record["id"])
        return str(record["id"])

    return {
        "fieldPatch": field_patch,
        "relationAdd": relation_add,
        "relationDelete": relation_delete,
        "delete": delete,
    }


def _stix_edit(_: Any, info: GraphQLResolveInfo[Context], id: str) -> dict[str, Any]:
    """`stixEdit(id)` → `merge(stixObjectsIds)`: the sources merge into `id` (same entity
    type only, as OpenCTI refuses the rest), and `delete`."""
    store = _store(info)
    record = store.resolve(id)
    if record is None or record["id"] not in store.entities:
        raise missing_reference("Cant find element to update", id=id)

    def merge(info: GraphQLResolveInfo[Context], stixObjectsIds: list[str]) -> Record:
        for source_id in stixObjectsIds:
            source = store.resolve(source_id)
            if source is None or source["id"] not in store.entities:
                raise missing_reference("Cant find element to merge", id=source_id)
            if source["entity_type"] != record["entity_type"]:
                raise functional("Cannot merge entities of different types")
        return store.merge(record["id"], list(stixObjectsIds))

    def delete(info: GraphQLResolveInfo[Context], forceDelete: bool | None = None) -> str:
        store.delete(record["id"])
        return str(record["id"])

    return {"merge": merge, "delete": delete}


_REF_KEYS = {"object-label": "objectLabel", "object-marking": "objectMarking"}


def _merge(current: list[str], values: list[str], operation: str) -> list[str]:
    if operation == "add":
        return current + [v for v in values if v not in current]
    if operation == "remove":
        gone = {v.lower() for v in values}
        return [v for v in current if v.lower() not in gone]
    return values


KNOWLEDGE_MUTATIONS: dict[str, Callable[..., Any]] = {
    "indicatorAdd": indicator_add,
    "stixCyberObservableAdd": observable_add,
    "labelAdd": label_add,
    "stixDomainObjectEdit": _edit,
    "stixCyberObservableEdit": _edit,
    "stixEdit": _stix_edit,
}
