"""The values the renderer exchanges with the desired-state builder."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.core.diagnostics import Diagnostic
from controller.core.model import IntelType, Key


@dataclass(frozen=True, slots=True)
class IntelCandidate:
    """An intel document to be, before merging and the ownership marker.

    `key` is stable across runs: for a single atomic value (an IP, a domain, a URL...) it is
    the STIX standard id of the canonical observable (`domain-name--<uuid5>`), so the same
    value from several indicators or observables becomes one document; otherwise it is the
    indicator's standard id.
    """

    key: Key
    intel_type: IntelType
    name: str
    description: str
    payload: str
    """The canonical content the body is rendered from (YARA text, signal expression,
    or canonical JSON of an OpenIOC indicator tree)."""
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FileCandidate:
    """A file for the Reputation blocklist, keyed by its strongest hash."""

    key: Key
    hashes: dict[str, str]
    """Canonical algorithm (`md5`, `sha1`, `sha256`) → lower-case hex."""
    name: str


@dataclass(frozen=True, slots=True)
class Conversion:
    """What one source object becomes: documents, blocklist files, or a reason it is skipped."""

    intel: tuple[IntelCandidate, ...] = ()
    files: tuple[FileCandidate, ...] = ()
    skip_reason: str | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)


# Made through the slots' own descriptors: a frozen dataclass's `__init__` stores each field
# through `object.__setattr__`, which looks the name up again (and takes keywords); these run
# for nearly every indicator of a pass, at half the cost. Same values as the constructors
# (`tests/render/test_types_fast.py` compares).
_new = object.__new__
_INTEL = IntelCandidate.__dict__
_set_key, _set_intel_type, _set_name, _set_description, _set_payload, _set_platforms = (
    _INTEL[name].__set__
    for name in ("key", "intel_type", "name", "description", "payload", "platforms")
)
_FILE = FileCandidate.__dict__
_set_file_key, _set_hashes, _set_file_name = (
    _FILE[name].__set__ for name in ("key", "hashes", "name")
)


def openioc_candidate(key: str, name: str, description: str, payload: str) -> IntelCandidate:
    """`IntelCandidate(key=Key(key), intel_type="openioc", name=name, description=description,
    payload=payload)`."""
    made: IntelCandidate = _new(IntelCandidate)
    _set_key(made, key)
    _set_intel_type(made, "openioc")
    _set_name(made, name)
    _set_description(made, description)
    _set_payload(made, payload)
    _set_platforms(made, ())
    return made


def file_candidate(key: str, hashes: dict[str, str], name: str) -> FileCandidate:
    """`FileCandidate(key=Key(key), hashes=hashes, name=name)`."""
    made: FileCandidate = _new(FileCandidate)
    _set_file_key(made, key)
    _set_hashes(made, hashes)
    _set_file_name(made, name)
    return made
