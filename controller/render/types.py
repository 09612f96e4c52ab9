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
