"""The ownership marker: a self-referencing trailer carried by every object we create.

Intel documents carry it at the end of their description (which Tanium reports in every
listing), plus an intrinsic id derived from the key (OpenIOC root id, STIX package id,
signal `id`, YARA file name). Blocklist entries carry it in `notes`. An object is owned only
when its marker is present and consistent; everything else is never touched.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _string  # what json.dumps uses (ensure_ascii=False)
from typing import Any, cast

from controller.core.model import ActualBlocklist, ActualIntel, Key

MARKER_RE = re.compile(
    r"\[octi-tanium:v1 key=(?P<key>[^\s\]]+) digest=(?P<digest>[0-9a-f]{16})"
    r"(?: src=(?P<src>[0-9a-f]{8}))?\]$"
)


@dataclass(frozen=True)
class Marker:
    key: Key
    digest: str
    src: str | None = None
    """Blocklist entries only: the installation (the Reputation custom list is global, so
    two installations must not take each other's entries for their own)."""

    def text(self) -> str:
        return marked("", self.key, self.digest, self.src)


def installation_id(source_name: str) -> str:
    """A short id of an installation, derived from its managed source name."""
    return hashlib.sha256(source_name.encode("utf-8")).hexdigest()[:8]


def digest_of(fields: dict[str, Any]) -> str:
    """A short, stable digest of the desired content (canonical JSON, sorted keys)."""
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def intel_digest(
    intel_type: str, name: str, description: str, payload: str, platforms: tuple[str, ...]
) -> str:
    """`digest_of({"type", "name", "description", "payload", "platforms"})` without building
    and sorting a dict (once per document per pass): the same canonical JSON, written out in
    its sorted key order with `json`'s own string encoder. A property test compares the two."""
    listed = ",".join(map(_string, platforms)) if platforms else ""
    blob = (
        f'{{"description":{_string(description)},"name":{_string(name)},'
        f'"payload":{_string(payload)},"platforms":[{listed}],"type":{_string(intel_type)}}}'
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def blocklist_digest(hashes: Mapping[str, str], labels: tuple[str, ...]) -> str:
    """`digest_of({"hashes": dict(hashes), "labels": list(labels)})` the way `intel_digest` is
    (once per blocklist entry per pass). A property test compares the two."""
    listed = ",".join(map(_string, labels))
    if len(hashes) == 1:  # most entries: one hash, written without a generator
        ((algorithm, value),) = hashes.items()
        blob = f'{{"hashes":{{{_string(algorithm)}:{_string(value)}}},"labels":[{listed}]}}'
    else:
        pairs = ",".join(f"{_string(k)}:{_string(v)}" for k, v in sorted(hashes.items()))
        blob = f'{{"hashes":{{{pairs}}},"labels":[{listed}]}}'

    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def with_marker(text: str, marker: Marker) -> str:
    return marked(text, marker.key, marker.digest, marker.src)


def marked(text: str, key: str, digest: str, src: str | None = None) -> str:
    """`with_marker(text, Marker(key, digest, src))` without making the `Marker` (once per
    item per pass)."""
    tail = f" src={src}]" if src else "]"
    return (
        f"{text} [octi-tanium:v1 key={key} digest={digest}{tail}"
        if text
        else f"[octi-tanium:v1 key={key} digest={digest}{tail}"
    )


_MARKER_START = "[octi-tanium:v1 key="


def _match(text: str | None) -> re.Match[str] | None:
    if not text:
        return None
    start = text.rfind(_MARKER_START)
    return MARKER_RE.fullmatch(text, start, len(text.rstrip())) if start >= 0 else None


def parse_marker(text: str | None) -> Marker | None:
    """The marker at the end of `text` (a description or notes), or None."""
    match = _match(text)
    if not match:
        return None
    return Marker(Key(match.group("key")), match.group("digest"), match.group("src"))


def marker_key(text: str | None) -> str | None:
    """Just the key of the marker at the end of `text` (the hot path of ownership checks)."""
    match = _match(text)
    return match.group("key") if match else None


def intrinsic_ids_for(key: str) -> frozenset[str]:
    """The intrinsic ids Tanium may report for a document we rendered for `key`."""
    safe = key.replace(":", "_").replace("/", "_")
    return frozenset({key, safe, f"{safe}.yara", f"{safe}.ioc", f"{safe}.stix", f"{key}.yara"})


_OUR_INTRINSIC = re.compile(
    r"(?:[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|static[:_].+)"
    r"(?:\.(?:ioc|yara|stix))?"
)


def may_be_ours(intrinsic_id: str | None) -> bool:
    """Whether a document with this intrinsic id may be one we rendered (a key, or a file name
    made of one; None: a YARA document on a server that reports no intrinsic id)."""
    return intrinsic_id is None or _OUR_INTRINSIC.fullmatch(intrinsic_id) is not None


def owned_intel_key(doc: ActualIntel) -> Key | None:
    """The key of a document we own, or None when its marker is absent or inconsistent."""
    key = marker_key(doc.description)  # once per document per pass: no `Marker` built
    if key is None:
        return None
    intrinsic = doc.intrinsic_id
    if intrinsic is not None and intrinsic != key and (intrinsic not in intrinsic_ids_for(key)):
        return None
    return Key(key)


def owned_intel_keys(docs: Iterable[ActualIntel]) -> list[Key | None]:
    """`owned_intel_key` of each document, in order. Written flat, `_match` inlined: it runs
    for every document of the managed source, twice a pass (the diff, the unowned listing);
    `tests/render/test_marker_fast.py` compares it with `owned_intel_key`."""
    keys: list[str | None] = []
    append = keys.append
    fullmatch = MARKER_RE.fullmatch
    for doc in docs:
        text = doc.description
        start = text.rfind(_MARKER_START) if text else -1
        match = fullmatch(text, start, len(text.rstrip())) if start >= 0 else None
        if match is None:
            append(None)
            continue
        key = match[1]
        intrinsic = doc.intrinsic_id
        if intrinsic is None or intrinsic == key or intrinsic in intrinsic_ids_for(key):
            append(key)
        else:
            append(None)
    return cast(list[Key | None], keys)  # `Key` is `str` at run time: no call per key


def owned_blocklist_key(
    entry: ActualBlocklist,
    installation: str | None = None,
    known: Mapping[Key, str] | None = None,
) -> Key | None:
    """The key of an entry we own: on the blacklist, with our installation's marker, and a
    key that is the one its own hashes give (a marker copied onto another entry is not ours).
    `known` (key → strongest hash of a desired entry) spares recomputing the key's uuid5."""
    from controller.render.canonical import file_key

    if entry.list != "blacklist":
        return None
    match = _match(entry.notes)  # once per entry per pass: no `Marker` built
    if match is None:
        return None
    if installation is not None and match[3] != installation:  # src
        return None
    key = Key(match[1])
    # The strongest hash the entry holds (malformed values simply give another key).
    for algorithm, value in (("sha256", entry.sha256), ("sha1", entry.sha1), ("md5", entry.md5)):
        if value:
            value = value.lower()
            if known is not None and known.get(key) == value:
                return key
            return key if file_key({algorithm: value}) == key else None
    return None


def owned_blocklist_keys(
    entries: Iterable[ActualBlocklist],
    installation: str | None = None,
    known: Mapping[Key, str] | None = None,
) -> list[Key | None]:
    """`owned_blocklist_key` of each entry, in order. Written flat, `_match` inlined and the
    import done once: it runs for every entry of the list, twice a pass (the diff, the
    unowned listing); `tests/render/test_marker_fast.py` compares it with
    `owned_blocklist_key`."""
    from controller.render.canonical import file_key

    keys: list[str | None] = []
    append = keys.append
    fullmatch = MARKER_RE.fullmatch
    wanted = known.get if known is not None else None
    for entry in entries:
        text = entry.notes
        start = text.rfind(_MARKER_START) if text and entry.list == "blacklist" else -1
        match = fullmatch(text, start, len(text.rstrip())) if start >= 0 else None
        if match is None or (installation is not None and match[3] != installation):
            append(None)
            continue
        key = match[1]
        if entry.sha256:
            algorithm, value = "sha256", entry.sha256.lower()
        elif entry.sha1:
            algorithm, value = "sha1", entry.sha1.lower()
        elif entry.md5:
            algorithm, value = "md5", entry.md5.lower()
        else:
            append(None)
            continue
        if wanted is not None and wanted(Key(key)) == value:
            append(key)
        else:
            append(key if file_key({algorithm: value}) == key else None)
    return cast(list[Key | None], keys)  # `Key` is `str` at run time: no call per key


class ListingKeys:
    """The ownership keys of one pass's listings, computed once and shared by the diff and
    the unowned list (`unowned_objects`), which would each compute them (~0.1 s at 125,000
    objects). A listing is recognised by identity (the very tuple the pass read, held here
    while its keys are); another listing, or another installation, is computed afresh.

    The blocklist's keys are the same with or without `known` when `known` comes from the
    desired state (a desired entry's key is the `file_key` of its strongest hash): `known`
    only spares the uuid5 (`owned_blocklist_key`), so keys computed by the diff with it serve
    the unowned list too."""

    __slots__ = ("_blocklist", "_intel")

    def __init__(self) -> None:
        self._intel: tuple[Sequence[ActualIntel], list[Key | None]] | None = None
        self._blocklist: tuple[Sequence[ActualBlocklist], str | None, list[Key | None]] | None
        self._blocklist = None

    def intel(self, docs: Sequence[ActualIntel]) -> list[Key | None]:
        held = self._intel
        if held is None or held[0] is not docs:
            held = self._intel = (docs, owned_intel_keys(docs))
        return held[1]

    def blocklist(
        self,
        entries: Sequence[ActualBlocklist],
        installation: str | None,
        known: Mapping[Key, str] | None = None,
    ) -> list[Key | None]:
        held = self._blocklist
        if held is None or held[0] is not entries or held[1] != installation:
            keys = owned_blocklist_keys(entries, installation, known)
            held = self._blocklist = (entries, installation, keys)
        return held[2]
