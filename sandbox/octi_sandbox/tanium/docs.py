"""Intel document semantics: create/upsert, the intrinsicId update rule, delete, filtered lists."""

from __future__ import annotations

from dataclasses import dataclass

from .config import TaniumConfig
from .formats import ParsedIntel
from .models import IntelDoc, Source
from .state import TaniumState
from .web import ApiError, bad_request, not_found


def default_source(state: TaniumState, config: TaniumConfig) -> Source:
    """The source of sourceless `POST /intels`, created on first use."""
    for source in state.sources.values():
        if source.name == config.default_source_name:
            return source
    return state.add_source(config.default_source_name, "user", "Intel added without a source")


def new_doc(state: TaniumState, source_id: int, parsed: ParsedIntel) -> IntelDoc:
    now = state.now()
    doc = IntelDoc(
        id=state.next_id("intel"),
        source_id=source_id,
        type=parsed.type,
        name=parsed.name,
        description=parsed.description,
        intrinsic_id=parsed.intrinsic_id,
        contents=parsed.contents,
        md5=parsed.md5,
        size=parsed.size,
        created_at=now,
        updated_at=now,
        is_schema_valid=parsed.is_schema_valid,
        platforms=parsed.platforms,
        mitre_attack=parsed.mitre_attack,
        compiled=parsed.compiled,
    )
    return state.store_doc(doc)


def revise(state: TaniumState, doc: IntelDoc, parsed: ParsedIntel) -> IntelDoc:
    """A new revision of `doc` with the parsed content; id, source and labels stay."""
    state.unindex_doc(doc)
    doc.type = parsed.type
    doc.name = parsed.name
    doc.description = parsed.description
    if parsed.intrinsic_id is not None or parsed.type != "yara":
        doc.intrinsic_id = parsed.intrinsic_id
    doc.contents = parsed.contents
    doc.md5 = parsed.md5
    doc.size = parsed.size
    doc.is_schema_valid = parsed.is_schema_valid
    doc.platforms = parsed.platforms
    doc.mitre_attack = parsed.mitre_attack
    doc.compiled = parsed.compiled
    doc.revision_id += 1
    doc.updated_at = state.now()
    return state.store_doc(doc)


def create_intel(
    state: TaniumState, config: TaniumConfig, source_id: int, parsed: ParsedIntel
) -> IntelDoc:
    """POST: a new doc, or (switch) a new revision of the doc with the same intrinsicId."""
    if parsed.intrinsic_id is not None and config.post_existing_intrinsic_id == "update":
        same = state.intrinsic_index.get((source_id, parsed.type, parsed.intrinsic_id))
        if same:
            return revise(state, state.docs[min(same)], parsed)
    return new_doc(state, source_id, parsed)


def put_intel(
    state: TaniumState, config: TaniumConfig, doc: IntelDoc, parsed: ParsedIntel
) -> IntelDoc:
    """PUT: Tanium updates a doc only when the new content has the same intrinsicId.

    YARA without a filename keeps the doc's intrinsicId. Otherwise a different intrinsicId
    creates a new document in the same source (XSOAR's note), or is refused (switch).
    """
    keeps = parsed.type == "yara" and parsed.intrinsic_id is None
    if doc.intrinsic_id is not None and not keeps and parsed.intrinsic_id != doc.intrinsic_id:
        if config.put_intrinsic_mismatch == "reject":
            raise bad_request(
                f"intrinsicId mismatch: document {doc.id} has {doc.intrinsic_id!r}, "
                f"the new content has {parsed.intrinsic_id!r}"
            )
        return new_doc(state, doc.source_id, parsed)
    return revise(state, doc, parsed)


def delete_intels(state: TaniumState, config: TaniumConfig, ids: list[int]) -> list[int]:
    unknown = [i for i in ids if i not in state.docs]
    if unknown and config.delete_unknown == "not_found":
        raise not_found()
    deleted = []
    for doc_id in dict.fromkeys(ids):
        doc = state.docs.pop(doc_id, None)
        if doc is not None:
            state.unindex_doc(doc)
            deleted.append(doc_id)
    if deleted:
        state.touch_intel()
    return deleted


def get_doc(state: TaniumState, doc_id: int) -> IntelDoc:
    doc = state.docs.get(doc_id)
    if doc is None:
        raise not_found()
    return doc


@dataclass(frozen=True)
class IntelFilter:
    name: str | None = None
    description: str | None = None
    types: tuple[str, ...] = ()
    label_ids: tuple[int, ...] = ()
    techniques: tuple[str, ...] = ()
    source_ids: tuple[int, ...] = ()

    def accepts(self, doc: IntelDoc) -> bool:
        if self.name is not None and self.name not in doc.name.lower():
            return False
        if self.description is not None and self.description not in doc.description.lower():
            return False
        if self.types and doc.type not in self.types:
            return False
        if self.source_ids and doc.source_id not in self.source_ids:
            return False
        if self.label_ids and not set(self.label_ids) & set(doc.label_ids):
            return False
        return not self.techniques or bool(set(self.techniques) & doc.technique_ids())


def filtered_ids(state: TaniumState, config: TaniumConfig, flt: IntelFilter) -> list[int]:
    """Matching doc ids in list order; cached until the documents change."""
    key = (flt, config.intel_list_order)
    cached = state.list_cache.get(key)
    if cached is None:
        ids = [d.id for d in state.docs.values() if flt.accepts(d)]
        if config.intel_list_order == "id_desc":
            ids.reverse()
        state.list_cache[key] = cached = ids
    return cached


def attach_label(state: TaniumState, config: TaniumConfig, doc: IntelDoc, label_id: int) -> None:
    if label_id not in state.labels:
        if config.attach_unknown_label == "server_error":
            raise ApiError(500, "Internal Server Error")
        raise not_found()
    if label_id not in doc.label_ids:
        doc.label_ids.append(label_id)
        state.label_members[label_id].add(doc.id)
        state.touch_intel(content=False)


def detach_label(state: TaniumState, doc: IntelDoc, label_id: int) -> None:
    """Unknown label: 404; a label that is not attached: nothing to do."""
    if label_id not in state.labels:
        raise not_found()
    if label_id in doc.label_ids:
        doc.label_ids.remove(label_id)
        state.label_members[label_id].discard(doc.id)
        state.touch_intel(content=False)
