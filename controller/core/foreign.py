"""What is in Tanium but not ours, and why: the plan lists it (never touched).

The same ownership rules as the diff (`controller.render.marker`): a document of the managed
source is ours only with a valid marker whose key its intrinsic id agrees with; a blocklist
entry only on the blacklist, with this installation's marker, and a key its own hashes give."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_, is_not
from typing import Generic, TypeVar

from controller.core.model import ActualBlocklist, ActualIntel, ActualState
from controller.render.marker import (
    ListingKeys,
    installation_id,
    owned_blocklist_key,
    owned_intel_key,
    parse_marker,
)


@dataclass(frozen=True, slots=True)
class Unowned:
    kind: str
    """`intel` or `blocklist`."""
    tanium_id: int
    name: str
    why: str


def unowned_objects(actual: ActualState, keys: ListingKeys | None = None) -> tuple[Unowned, ...]:
    """Every document of the managed source and every blocklist entry that is not ours, by
    kind then Tanium id. `keys`: the ownership keys the pass's diff already found."""
    installation = installation_id(actual.source_name)
    keys = ListingKeys() if keys is None else keys
    docs = actual.intel
    # the keys in one flat pass, then a verdict only for the few documents that have none
    foreign_docs = compress(docs, map(is_, keys.intel(docs), repeat(None)))
    intel = [_unowned_doc(doc) for doc in foreign_docs]
    listed = actual.blocklist
    foreign = compress(listed, map(is_, keys.blocklist(listed, installation), repeat(None)))
    entries = [_unowned_entry(entry, installation) for entry in foreign]
    return _listed(intel, entries)


def _doc_verdict(doc: ActualIntel) -> Unowned | None:
    if owned_intel_key(doc) is not None:
        return None
    return _unowned_doc(doc)


def _unowned_doc(doc: ActualIntel) -> Unowned:
    return Unowned("intel", int(doc.id), doc.name, _why_intel(doc))


def _entry_verdict(entry: ActualBlocklist, installation: str) -> Unowned | None:
    if owned_blocklist_key(entry, installation) is not None:
        return None
    return _unowned_entry(entry, installation)


def _unowned_entry(entry: ActualBlocklist, installation: str) -> Unowned:
    why = _why_entry(entry, installation)
    return Unowned("blocklist", int(entry.id), entry_name(entry), why)


def _listed(intel: list[Unowned], entries: list[Unowned]) -> tuple[Unowned, ...]:
    return tuple(sorted(intel, key=_by_id)) + tuple(sorted(entries, key=_by_id))


Seen = TypeVar("Seen", ActualIntel, ActualBlocklist)


@dataclass(frozen=True, slots=True)
class Judged(Generic[Seen]):
    """A pass's objects, in listing order, and the verdict on each (held: while the objects
    are, no other object can have their `id()`)."""

    objects: list[Seen]
    verdicts: list[Unowned | None]


class UnownedMemo:
    """`unowned_objects` across the passes of one process (`run`): a document or entry that is
    the very object the last pass saw (Tanium's unchanged pages hand those back:
    `controller.tanium.pagination.PageMemo`) keeps its verdict instead of having its marker
    parsed again — 625,000 of them at 500,000 indicators. Anything else is judged as
    `unowned_objects` judges it; the result is the same."""

    def __init__(self) -> None:
        self._source: str | None = None
        self._intel: Judged[ActualIntel] | None = None
        self._entries: Judged[ActualBlocklist] | None = None

    def __call__(self, actual: ActualState) -> tuple[Unowned, ...]:
        if actual.source_name != self._source:  # another installation id: nothing holds
            self._source = actual.source_name
            self._intel, self._entries = None, None
        installation = installation_id(actual.source_name)
        self._intel = _judge(actual.intel, self._intel, _doc_verdict)
        self._entries = _judge(
            actual.blocklist, self._entries, lambda e: _entry_verdict(e, installation)
        )
        return _listed(_found(self._intel), _found(self._entries))


def _judge(
    objects: Iterable[Seen], last: Judged[Seen] | None, verdict: Callable[[Seen], Unowned | None]
) -> Judged[Seen]:
    """Each object's verdict, the last pass's for the very same object. Listed as last time
    (the usual case), the objects are compared in place, by identity, in C; otherwise looked
    up by `id()`."""
    listed = list(objects)
    if last is not None and len(listed) == len(last.objects):
        verdicts = list(last.verdicts)
        for at in compress(range(len(listed)), map(is_not, listed, last.objects)):
            verdicts[at] = verdict(listed[at])
        return Judged(listed, verdicts)
    known = {} if last is None else dict(zip(map(id, last.objects), last.verdicts, strict=True))
    return Judged(listed, [known[id(o)] if id(o) in known else verdict(o) for o in listed])


def _found(judged: Judged[Seen]) -> list[Unowned]:
    return [v for v in judged.verdicts if v is not None]


def _by_id(unowned: Unowned) -> int:
    return unowned.tanium_id


def blocklist_name(md5: str, sha1: str, sha256: str, file_name: str = "") -> str:
    """The one name of a blocklist entry, wherever it is shown: its strongest hash
    (`sha256:…`, else sha1, else md5), then the file name when there is one."""
    strongest = next(
        (
            f"{alg}:{v.lower()}"
            for alg, v in (("sha256", sha256), ("sha1", sha1), ("md5", md5))
            if v
        ),
        "(no hash)",
    )
    hashes = {h.lower() for h in (md5, sha1, sha256) if h}
    if file_name and file_name.lower() not in hashes:
        return f"{strongest} ({file_name})"
    return strongest


def entry_name(entry: ActualBlocklist) -> str:
    """`blocklist_name` of an entry Tanium holds (it keeps no file name)."""
    return blocklist_name(entry.md5, entry.sha1, entry.sha256)


def _why_intel(doc: ActualIntel) -> str:
    marker = parse_marker(doc.description)
    if marker is None:
        return "no octi-tanium marker (made by someone else)"
    return (
        f"its marker names key {marker.key} but its intrinsic id is {doc.intrinsic_id} "
        "(a copied marker)"
    )


def _why_entry(entry: ActualBlocklist, installation: str) -> str:
    marker = parse_marker(entry.notes)
    if entry.list != "blacklist":
        return f"on the {entry.list} (an allowlist entry is never ours)"
    if marker is None:
        return "no octi-tanium marker (made by someone else)"
    if marker.src != installation:
        return f"another installation's marker (src={marker.src or 'none'})"
    return f"its marker names key {marker.key}, which its hashes do not give (a copied marker)"
