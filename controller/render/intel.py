"""Candidates → the exact items Tanium must hold, with the ownership marker.

Name and description are rendered exactly as Tanium will report them: one line, cut to
`NAME_LIMIT` / `DESCRIPTION_LIMIT` characters; for YARA (where they travel in HTTP headers)
also folded to printable ASCII. The marker trailer follows the description.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache

from controller.core.model import DesiredBlocklist, DesiredIntel
from controller.render.marker import blocklist_digest, intel_digest, marked
from controller.render.openioc import render_openioc
from controller.render.terms import translate_payload
from controller.render.text import DESCRIPTION_LIMIT, NAME_LIMIT, clean, header_safe, is_one_line
from controller.render.types import FileCandidate, IntelCandidate

RENDERER_VERSION = 1
"""The version of the document renderer (OpenIOC text, signal JSON, YARA as is). Bump it
whenever the bytes rendered for the same canonical inputs change: the write journal vouches
for a document's body only under the renderer version it was recorded with, so a new
renderer re-renders (and rewrites what differs) without changing any marker digest.
`tests/render/test_renderer_version.py` fails until it is bumped."""
NOTES_LIMIT = 1000
PLATFORMS = {"windows": "windows", "linux": "linux", "macos": "mac", "mac": "mac"}
"""OpenCTI / MITRE ATT&CK platform names (lower-cased) → Tanium's."""


def safe_key(key: str) -> str:
    """The key as a file name (the form `marker.intrinsic_ids_for` accepts)."""
    return key.replace(":", "_").replace("/", "_")


def rendered_text(candidate: IntelCandidate) -> tuple[str, str]:
    """(name, description without the marker) as Tanium will report them."""
    if candidate.intel_type == "yara":
        name = header_safe(candidate.name, NAME_LIMIT)
    else:
        name = clean(candidate.name, NAME_LIMIT)
    description = _description(candidate.description, candidate.intel_type == "yara")
    return name or clean(candidate.key, NAME_LIMIT), description


@lru_cache(maxsize=1024)
def _description(text: str, yara: bool) -> str:
    """A description as Tanium will report it. Cached: many documents share one (a
    connector's boilerplate), often several lines long, cleaned once (~1 MB at most)."""
    if yara:
        return header_safe(text, DESCRIPTION_LIMIT)
    return clean(text, DESCRIPTION_LIMIT)


def signal_platforms(platforms: tuple[str, ...]) -> tuple[str, ...]:
    """`Windows` → `windows`, `Linux` → `linux`, `macOS` → `mac`; others dropped; sorted."""
    return tuple(sorted({PLATFORMS[p.lower()] for p in platforms if p.lower() in PLATFORMS}))


def render_signal(
    key: str, name: str, description: str, expression: str, platforms: tuple[str, ...]
) -> str:
    """The signal document, `{"id", "name", "description", "contents", "syntax_version",
    "platforms"}` in that order, compact, `ensure_ascii=False`: Tanium stores that form and
    reports the MD5 of its UTF-8 bytes (checked on the corpus signal); the emulator
    re-serializes what it receives the same way, so the MD5s agree."""
    doc = {
        "id": key,
        "name": name,
        "description": description,
        "contents": expression,
        "syntax_version": 1,
        "platforms": list(platforms),
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def render_intel(
    candidate: IntelCandidate,
    terms: Mapping[str, str] | None = None,
    *,
    labels: tuple[str, ...] = (),
    scan_groups: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
    policies: tuple[str, ...] = (),
    priority: int = 0,
) -> DesiredIntel:
    """The document. `terms`: the tenant's OpenIOC terms, {renderer term: tenant term}
    (`render.terms`); the other fields are what merging adds, set here rather than by a copy
    of the finished model. Once per document per pass: written flat."""
    intel_type = candidate.intel_type
    if terms and intel_type == "openioc":
        translated = translate_payload(candidate.payload, terms)
        if translated != candidate.payload:
            candidate = replace(candidate, payload=translated)
    key = candidate.key
    name = candidate.name
    description = candidate.description
    # `rendered_text`, each part apart: it gives most names and descriptions as they are
    # (one line of printable ASCII short enough: `clean` and `header_safe` alike), checked
    # here without its calls; a description that is not is cleaned once per distinct text
    if not (name and len(name) <= NAME_LIMIT and is_one_line(name)):
        name = rendered_text(candidate)[0]
    if not (len(description) <= DESCRIPTION_LIMIT and is_one_line(description)):
        description = _description(description, intel_type == "yara")
    platforms = candidate.platforms
    digest = intel_digest(intel_type, name, description, candidate.payload, platforms)
    reported = marked(description, key, digest)
    if intel_type == "openioc":
        filename: str | None = f"{safe_key(key)}.ioc"
    elif intel_type == "yara":
        filename = f"{safe_key(key)}.yara"
    elif intel_type == "tanium-signal":
        filename = None
    else:
        raise ValueError(f"intel type {intel_type!r} is not rendered by octi-tanium")
    return DesiredIntel.deferred(  # the fields in their declared order, without keywords
        _Body(candidate, name, reported),
        key,
        intel_type,
        name,
        reported,  # the description
        digest,
        platforms,
        labels,
        scan_groups,
        filename,
        sources,
        policies,
        priority,
    )


class _Body:
    """`render_content(candidate, name, reported)`, deferred: a slotted callable, a quarter of
    a `functools.partial`'s memory (one per document, 100,000 per pass)."""

    __slots__ = ("candidate", "name", "reported")

    def __init__(self, candidate: IntelCandidate, name: str, reported: str) -> None:
        self.candidate, self.name, self.reported = candidate, name, reported

    def __call__(self) -> str:
        return render_content(self.candidate, self.name, self.reported)


def render_content(candidate: IntelCandidate, name: str, reported: str) -> str:
    """The body of `candidate`'s document: `name` and `reported` (the description with its
    marker) as `render_intel` made them. Called only when the body or its md5 is read (a
    create, an update, a document the write journal cannot vouch for)."""
    if candidate.intel_type == "openioc":
        return render_openioc(candidate.key, name, reported, candidate.payload)
    if candidate.intel_type == "yara":
        return candidate.payload
    return render_signal(candidate.key, name, reported, candidate.payload, candidate.platforms)


@lru_cache(maxsize=4096)  # a few dozen distinct label sets per pass
def _labels(labels: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """Cleaned (no commas: they separate labels), unique case-insensitively, sorted; and the
    notes they make (before the marker)."""
    seen: dict[str, str] = {}
    for label in labels:
        text = clean(label.replace(",", " "), NAME_LIMIT)
        if text:
            seen[text.lower()] = min(seen.get(text.lower(), text), text)
    names = tuple(seen[k] for k in sorted(seen))
    return names, clean(", ".join(names), NOTES_LIMIT)


def render_blocklist(
    file: FileCandidate,
    *,
    labels: tuple[str, ...],
    installation: str | None = None,
    sources: tuple[str, ...] = (),
    policies: tuple[str, ...] = (),
    priority: int = 0,
) -> DesiredBlocklist:
    names, notes = _labels(labels)
    given = file.hashes
    if len(given) == 1:  # most files: one hash, nothing to sort
        ((algorithm, value),) = given.items()
        hashes = {algorithm: value.lower()}
    else:
        hashes = {k: v.lower() for k, v in sorted(given.items())}
    digest = blocklist_digest(hashes, names)
    # every field typed above: built without a second validation (and its copies of every
    # tuple), all entries sharing one fields-set (`tests/render/test_blocklist_typed.py`)
    return DesiredBlocklist.typed(
        key=file.key,
        md5=hashes.get("md5", ""),
        sha1=hashes.get("sha1", ""),
        sha256=hashes.get("sha256", ""),
        notes=marked(notes, file.key, digest, installation),
        digest=digest,
        name=clean(file.name, NAME_LIMIT) or file.key,
        sources=sources,
        policies=policies,
        priority=priority,
    )
