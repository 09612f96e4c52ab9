"""The intel half of the diff: the managed source's documents against the desired ones. Pure.

A keyed join over the whole state (dicts by key, linear time); field-level changes are
computed per item only where the cheap comparison already found a difference. Only owned
objects (a present, consistent marker) are ever planned for change.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from datetime import datetime
from itertools import repeat
from operator import attrgetter, is_, methodcaller
from typing import Any

from controller.core.desired import DesiredState
from controller.core.diagnostics import Diagnostic
from controller.core.diff.changes import document_changes
from controller.core.diff.common import (
    DiffResult,
    change_reason,
    conflict,
    create_item,
    delete_item,
    origins,
    owned_split,
    payload,
)
from controller.core.labels import label_key
from controller.core.model import ActualIntel, ActualState, DesiredIntel, Key, TaniumId
from controller.core.plan import Change, CopyKey, PlanItem, noop_of
from controller.core.reasons import Reason
from controller.render.marker import (
    MARKER_RE,
    ListingKeys,
    intrinsic_ids_for,
    owned_intel_key,
    owned_intel_keys,
    parse_marker,
)

_STATIC = methodcaller("startswith", "static:")
_IN_SYNC = Reason.IN_SYNC
_SCHEMA_VALID = attrgetter("schema_valid")


def diff_intel(
    desired: DesiredState,
    actual: ActualState,
    settled: datetime | None,
    stored: Mapping[TaniumId, tuple[str, str]] | None = None,
    learned: MutableMapping[TaniumId, tuple[str, str]] | None = None,
    keys: ListingKeys | None = None,
) -> DiffResult:
    """`keys`: the listings' ownership keys, when the pass shares them (`ListingKeys`).
    `stored`: the write journal, Tanium id → (md5 Tanium reported, digest of the content
    it holds) — after our last write, for servers that store another form of our bytes, or
    found in sync on an earlier pass (`same_body`). A document it vouches for is compared
    without rendering it. `learned`, when given, receives the entries this diff established
    by rendering (an owned document whose md5 is the desired one): what the journal should
    record so that the next pass renders nothing for them."""
    journal = stored or {}

    def right_type(key: Key, doc: ActualIntel) -> bool:
        want = desired.intel.get(key)
        return want is not None and want.intel_type == doc.intel_type

    docs = actual.intel
    found = keys.intel(docs) if keys is not None else owned_intel_keys(docs)
    owned, unowned, duplicates = owned_split(docs, found, right_type)
    out = DiffResult(owned=len(owned) + len(duplicates), unowned=len(unowned))
    out.owned_from_source = len(owned) - sum(map(_STATIC, owned))
    if actual.deploy_known:
        out.undeployed = actual.undeployed([*owned.values(), *duplicates], settled=settled)
    labels = _LabelIndex(actual)
    same_labels, labels_known = labels.same, labels.same_pairs
    vouched_for = journal.get
    items = out.items
    append = items.append
    squatted = {d.intrinsic_id: d for d in unowned if d.intrinsic_id}
    # The loop is written flat for its common case, an owned document in sync (100,000 per
    # pass): the journal's word and the label sets are looked up inline, and the no-op item
    # made here (as `noop_item` makes it) rather than through two more calls. The desired
    # document's fields are read off its `__dict__` (where pydantic keeps them): an attribute
    # read of a model goes through its `__getattr__` hook, eight times a document. Only the
    # fields every document holds are read there (a deferred document's `content` and `md5`
    # are not, until `same_body` renders it: its new `__dict__` has the same other values).
    noop = noop_of
    label_sets = out.label_sets
    for key, want in desired.intel.items():
        have = owned.get(key)
        fields = want.__dict__
        if (
            have is not None
            and have.description == fields["description"]
            and have.name == fields["name"]
            and have.intel_type == fields["intel_type"]
            and (
                (
                    (vouched := vouched_for(have.id)) is not None
                    and vouched[0] == have.md5
                    and vouched[1] == fields["digest"]
                )
                or same_body(have, want, journal, learned)
            )
            and (
                (have.label_ids, fields["labels"]) in labels_known
                or same_labels(have.label_ids, fields["labels"])
            )
        ):
            sources = fields["sources"]
            for source in sources:  # as `origins` does
                if source.startswith("static:"):
                    sources = tuple(s for s in sources if not s.startswith("static:"))
                    break
            append(
                noop(
                    "intel",
                    fields["key"],
                    _IN_SYNC,
                    fields["name"],
                    have.id,
                    sources,
                    fields["policies"],
                )
            )
            continue
        # (a no-op's labels are in `labels_known`: only the other items' are collected)
        label_sets.add(want.labels)
        if have is None:
            holder = _holder(key, squatted) if squatted else None
            if holder is None:
                append(create_item("intel", want))
            else:
                why = (
                    f"document {holder.id} ('{holder.name}') in the managed source has this "
                    "item's intrinsic id but no octi-tanium marker (edited by hand?); Tanium "
                    "would overwrite it on upload, so it is left alone — restore its "
                    "description or delete it"
                )
                conflict(out, key, want.name, why)
        elif have.intel_type != want.intel_type:
            # Tanium cannot change a document's type in place (a PUT of another format makes
            # a new document): create the new one, then delete the old one.
            append(
                replace(
                    create_item("intel", want),
                    reason=Reason.CHANGED,
                    changes=(Change(field="type", before=have.intel_type, after=want.intel_type),),
                )
            )
            out.deletes.append(
                delete_item(CopyKey(key, have.id), "intel", have.id, have.name, Reason.REPLACED)
            )
        else:
            append(_compare(want, have, labels, journal, learned))
    label_sets.update(wanted for _, wanted in labels_known)
    out.diagnostics.extend(schema_invalid(owned))
    if not owned.keys() <= desired.intel.keys():  # (checked in C: usually none is gone)
        for key, doc in owned.items():
            if key not in desired.intel:
                gone = desired.gone.get(key)
                out.deletes.append(delete_item(key, "intel", doc.id, doc.name, gone))
    for doc in duplicates:
        of = owned_intel_key(doc)
        assert of is not None  # a duplicate is a copy of an owned key
        copy = CopyKey(of, doc.id)
        out.deletes.append(delete_item(copy, "intel", doc.id, doc.name, Reason.DUPLICATE))
    return out


def same_body(
    have: ActualIntel,
    want: DesiredIntel,
    journal: Mapping[TaniumId, tuple[str, str]],
    learned: MutableMapping[TaniumId, tuple[str, str]] | None = None,
) -> bool:
    """Tanium holds the content we want: the journal vouches for it (the md5 Tanium reports
    is the one recorded for the digest we want now — after our write of that content, in the
    server's own form, or found equal to our rendering on an earlier pass), or the md5 of our
    rendering is Tanium's. The journal is asked first: it needs no rendering. A match by
    rendering is a fact for the journal (`learned`)."""
    vouched = journal.get(have.id)
    if vouched is not None and vouched[0] == have.md5 and vouched[1] == want.digest:
        return True
    if have.md5 != want.md5:
        return False
    if learned is not None:
        learned[have.id] = (have.md5, want.digest)
    return True


def schema_invalid(owned: Mapping[Key, ActualIntel]) -> list[Diagnostic]:
    """Owned documents Tanium stored but flags `isSchemaValid: false`: they may never fire."""
    if not any(map(is_, map(_SCHEMA_VALID, owned.values()), repeat(False))):
        return []  # the usual answer, found in C
    return [
        Diagnostic(
            severity="warning",
            key=key,
            message=(
                f"Tanium flags intel {doc.id} ('{doc.name}') isSchemaValid: false — it is "
                "stored but its engine may never match it; see the document's Engine Analysis "
                "tab in Threat Response"
            ),
        )
        for key, doc in sorted((k, d) for k, d in owned.items() if d.schema_valid is False)
    ]


def _holder(key: str, squatted: dict[str, ActualIntel]) -> ActualIntel | None:
    """An unowned document holding an intrinsic id this key renders to."""
    for intrinsic in intrinsic_ids_for(key):
        if intrinsic in squatted:
            return squatted[intrinsic]
    return None


class _LabelIndex:
    """Label comparisons without re-folding the same names 100,000 times."""

    def __init__(self, actual: ActualState) -> None:
        self.names: dict[int, str] = {label.id: label.name for label in actual.labels}
        self._have: dict[tuple[int, ...], frozenset[str]] = {}
        self._want: dict[tuple[str, ...], frozenset[str]] = {}
        self.same_pairs: set[tuple[tuple[TaniumId, ...], tuple[str, ...]]] = set()
        """(label ids, label names) found to be the same labels: one lookup for the next
        document with both (a few dozen pairs per inventory)."""

    def same(self, label_ids: tuple[TaniumId, ...], labels: tuple[str, ...]) -> bool:
        """Whether Tanium's `label_ids` are the desired `labels`, case-insensitively."""
        if self.have_keys(label_ids) != self.want_keys(labels):
            return False
        self.same_pairs.add((label_ids, labels))
        return True

    def have_keys(self, label_ids: tuple[TaniumId, ...]) -> frozenset[str]:
        found = self._have.get(label_ids)
        if found is None:  # a few dozen distinct label sets per inventory
            found = frozenset(label_key(self.names.get(i, f"#{i}")) for i in label_ids)
            self._have[label_ids] = found
        return found

    def want_keys(self, labels: tuple[str, ...]) -> frozenset[str]:
        found = self._want.get(labels)
        if found is None:
            found = frozenset(label_key(x) for x in labels)
            self._want[labels] = found
        return found

    def have_names(self, label_ids: tuple[TaniumId, ...]) -> list[str]:
        return sorted((self.names.get(i, f"#{i}") for i in label_ids), key=label_key)


def _visible(doc_fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc_fields)
    out["description"] = MARKER_RE.sub("", str(out["description"]).rstrip()).rstrip()
    return out


def _compare(
    want: DesiredIntel,
    have: ActualIntel,
    labels: _LabelIndex,
    journal: Mapping[TaniumId, tuple[str, str]],
    learned: MutableMapping[TaniumId, tuple[str, str]] | None,
) -> PlanItem:
    """An owned document of the desired type that differs: what changed, and why."""
    same = same_body(have, want, journal, learned)
    content_equal = (
        same
        and have.name == want.name
        and have.description == want.description
        and have.intel_type == want.intel_type
    )
    labels_equal = labels.have_keys(have.label_ids) == labels.want_keys(want.labels)
    # the content itself when the read carried it (compared parsed), else its md5
    body = have.content is not None and not same
    have_fields = {
        "type": have.intel_type,
        "name": have.name,
        "description": have.description,
        "content": have.content if body else (want.md5 if same else have.md5),
    }
    want_fields = {
        "type": want.intel_type,
        "name": want.name,
        "description": want.description,
        "content": want.content if body else want.md5,
    }
    before = {
        "md5": have.md5,
        "revision_id": have.revision_id,
        "label_ids": list(have.label_ids),
        "intrinsic_id": have.intrinsic_id,
    }
    changes = document_changes(
        _visible(have_fields), _visible(want_fields), intel_type=want.intel_type if body else None
    )
    if have.description != want.description and not any(c.field == "description" for c in changes):
        changes.append(
            Change(
                field="marker",
                before=_marker_text(have.description),
                after=_marker_text(want.description),
            )
        )
    if not labels_equal:
        changes.append(
            Change(
                field="labels", before=labels.have_names(have.label_ids), after=list(want.labels)
            )
        )
    reason = Reason.LABELS if content_equal else change_reason(have.description, want.digest)
    return PlanItem(
        action="update",
        kind="intel",
        key=want.key,
        reason=reason,
        name=want.name,
        changes=tuple(changes),
        tanium_id=have.id,
        desired=payload(want),
        origins=origins(want),
        before=before,
    )


def _marker_text(description: str) -> str:
    marker = parse_marker(description)
    return marker.text() if marker else ""
