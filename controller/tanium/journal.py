"""The write journal: what Tanium reported storing after each of our writes, kept on disk.

Tanium may store a document in another form than the bytes we sent (XML re-serialised, line
endings or trailing whitespace folded): its `md5` then never equals the md5 of our rendering,
and a comparison of the two alone would rewrite — and redeploy — that document on every pass.
After each successful create or update the executor records, per Tanium id, the md5 the
server reported and the digest of the desired content; the diff (`controller.core.diff.intel`)
treats a document as in sync when its md5 is either ours or the recorded one for the same
digest.

Every pass also *learns*: an owned document whose md5 equals the md5 of our rendering of the
desired content is recorded the same way (`learn`, fed by the diff's `learned`), so the next
pass finds it in sync from the journal alone and renders nothing for it (rendering every
document was most of a no-change pass). `plan` learns too: an entry is only a fact Tanium
reported (this id holds the bytes whose md5 is M) joined to a fact of our own renderer (the
content of digest D renders to md5 M); it never decides a write, only spares a rendering.
Plans against a snapshot (`--actual snapshot:FILE`) read Tanium's state from a file and
record nothing. Entries are valid for one renderer version (`RENDERER_VERSION`): a file
written by another one is dropped on load, so a renderer change re-renders everything once.

The journal only ever saves work: ownership is recovered from Tanium alone (the marker).
Losing the file costs at most one rewrite per document Tanium normalises and one rendering
per document, after which they are recorded again. One file per Tanium URL and managed source,
under `$OCTI_TANIUM_STATE_DIR/journal/`, replaced atomically (write to a temporary file, then
rename). Two processes saving at once (a `plan` beside the `run` service) may lose each
other's latest entries — again only work, never correctness.

The file (format 3) holds three parallel columns — ids, md5s, digests — in compact JSON: `run`
and `plan` load it every pass, and at 100,000 documents a column loads ~3x faster than one
object per document (format 2, `{"documents": {"<id>": {"md5": …, "digest": …}}}`, indented).
Files of formats 1 and 2 still load; the next save rewrites them as format 3. An older
controller reads a format 3 file as unknown and starts a new journal (work, not correctness).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

import pydantic_core

from controller.core.model import ActualState, TaniumId
from controller.lease.config import state_dir
from controller.render.intel import RENDERER_VERSION
from controller.state_files import write_lines_atomically
from controller.tanium.snapshot import public_url

log = logging.getLogger("controller.tanium")

FORMAT_VERSION = 3
"""2 added `renderer` (the renderer version the entries hold for); a version 1 file was
written by renderer 1 and loads as such. 3 holds the entries as columns (`ids`, `md5`,
`digest`) instead of `documents`, one object per entry."""
READABLE_VERSIONS = (1, 2, FORMAT_VERSION)
Stored = tuple[str, str]
"""(md5 Tanium reported, digest of the desired content it holds): after our write, or found
equal to our rendering."""


class JournalFeed(Protocol):
    """What an apply wrote (the executor): Tanium id → stored md5 and digest; ids deleted."""

    stored: dict[TaniumId, Stored]
    removed: set[TaniumId]


def journal_path(tanium_url: str, source_name: str, directory: Path | None = None) -> Path:
    """The journal file of one Tanium host and managed source."""
    url = public_url(tanium_url)  # one file whatever the spelling of the URL
    scope = hashlib.sha256(f"{url}\0{source_name}".encode()).hexdigest()
    return (directory or state_dir()) / "journal" / f"{scope[:24]}.json"


class Journal:
    """The stored md5 per Tanium id; `load`, `record`, `save`."""

    def __init__(self, path: Path, entries: Mapping[TaniumId, Stored] | None = None) -> None:
        self.path = path
        self.entries: dict[TaniumId, Stored] = dict(entries or {})

    @classmethod
    def load(cls, tanium_url: str, source_name: str, directory: Path | None = None) -> Journal:
        """The journal on disk; empty when missing or unreadable (logged: it costs rewrites,
        never correctness)."""
        path = journal_path(tanium_url, source_name, directory)
        try:
            stamp = _stamp(path)
            known = _read.get(path)
            if known is not None and known[0] == stamp:
                return cls(path, known[1])
            raw = _decode(path.read_bytes())
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            log.warning("write journal %s unreadable (%s): starting a new one", path, exc)
            return cls(path)
        entries = _parse(raw, path)
        _read[path] = (stamp, entries)
        return cls(path, entries)

    def record(
        self,
        written: Mapping[TaniumId, Stored],
        removed: Iterable[TaniumId] = (),
        *,
        present: Iterable[TaniumId] | None = None,
    ) -> None:
        """Add this pass's writes, forget deleted documents and (with `present`, the ids Tanium
        listed) documents that no longer exist."""
        if present is not None:
            keep = set(present)
            self.entries = {i: s for i, s in self.entries.items() if i in keep}
        for intel_id in removed:
            self.entries.pop(intel_id, None)
        self.entries.update(written)

    @classmethod
    def update(
        cls, tanium_url: str, source_name: str, written: JournalFeed, actual: ActualState
    ) -> None:
        """After an apply: this pass's writes and deletes (`written`, the executor) on top of
        the journal on disk, documents Tanium no longer lists forgotten."""
        journal = cls.load(tanium_url, source_name)
        journal.record(written.stored, written.removed, present=[d.id for d in actual.intel])
        journal.save()

    @classmethod
    def learn(
        cls,
        tanium_url: str,
        source_name: str,
        learned: Mapping[TaniumId, Stored],
        actual: ActualState,
    ) -> None:
        """After a diff: the documents it found in sync by rendering (`learned`, see
        `controller.core.diff.intel.diff_intel`) on top of the journal on disk, documents
        Tanium no longer lists forgotten. A journal that cannot be written is logged, never an
        error: it only costs the next pass the renderings."""
        if not learned:
            return
        try:
            journal = cls.load(tanium_url, source_name)
            journal.record(learned, present=[d.id for d in actual.intel])
            journal.save()
        except OSError as exc:
            log.warning(
                "write journal not saved (%s): the next pass renders these %d documents again; "
                "check that OCTI_TANIUM_STATE_DIR is writable",
                exc,
                len(learned),
            )

    def save(self) -> None:
        """Replace the file atomically (a crash leaves the old journal or the new one)."""
        ids = sorted(self.entries)
        entries = self.entries
        body = {
            "format_version": FORMAT_VERSION,
            "renderer": RENDERER_VERSION,
            "ids": ids,
            "md5": [entries[i][0] for i in ids],
            "digest": [entries[i][1] for i in ids],
        }
        write_lines_atomically(self.path, [json.dumps(body, separators=(",", ":"))])


_read: dict[Path, tuple[tuple[int, int, int], dict[TaniumId, Stored]]] = {}
"""The last journal read from each file, with the file's `_stamp`: `run` loads the journal
every pass (at 500,000 documents, ~1 s of JSON), and it changes only when a pass writes.
Entries are copied into each `Journal` (its own to change)."""


def _stamp(path: Path) -> tuple[int, int, int]:
    """Inode, size, modification time (ns): `save` replaces the file (a new inode), and a
    file written in place by someone else moves its modification time."""
    found = path.stat()
    return found.st_ino, found.st_size, found.st_mtime_ns


def _decode(content: bytes) -> object:
    """The file's JSON: parsed by pydantic-core (faster than `json.loads`, and no string is
    decoded twice: the bytes are not turned into text first), else by `json.loads`, whose
    error (a `ValueError`) the warning shows, as it did before."""
    try:
        return pydantic_core.from_json(content, cache_strings=False)
    except ValueError:
        return json.loads(content.decode("utf-8"))


def _parse(raw: object, path: Path) -> dict[TaniumId, Stored]:
    if not isinstance(raw, dict) or raw.get("format_version") not in READABLE_VERSIONS:
        log.warning("write journal %s has an unknown format: starting a new one", path)
        return {}
    renderer = raw.get("renderer", 1)  # format 1 predates the field: renderer 1 wrote it
    if renderer != RENDERER_VERSION:
        log.info(
            "write journal %s was written for renderer %s (now %s): its documents are "
            "rendered and compared again",
            path,
            renderer,
            RENDERER_VERSION,
        )
        return {}
    if raw["format_version"] == FORMAT_VERSION:
        columns = _columns(raw)
        if columns is None:
            log.warning("write journal %s has an unknown format: starting a new one", path)
            return {}
        return columns
    documents = raw.get("documents")
    if not isinstance(documents, dict):
        log.warning("write journal %s has an unknown format: starting a new one", path)
        return {}
    out: dict[TaniumId, Stored] = {}
    for key, value in documents.items():  # flat: 100,000 entries and more
        if type(value) is dict:  # JSON objects decode to dicts, never to a subclass
            md5 = value.get("md5")
            digest = value.get("digest")
            if type(md5) is str and type(digest) is str and key.isdigit():
                out[TaniumId(int(key))] = (md5, digest)
    return out


def _columns(raw: dict[str, object]) -> dict[TaniumId, Stored] | None:
    """Format 3's entries (`save`), or None when the columns are not three lists of equal
    length holding ids (integers ≥ 0, as format 2's keys were), md5s and digests (strings).
    Checked a column at a time (`map` runs in C): the load is most of what it costs."""
    ids, md5s, digests = raw.get("ids"), raw.get("md5"), raw.get("digest")
    if not (
        type(ids) is list
        and type(md5s) is list
        and type(digests) is list
        and len(ids) == len(md5s) == len(digests)
        and set(map(type, ids)) <= {int}  # `bool` is a type of its own: refused
        and set(map(type, md5s)) <= {str}
        and set(map(type, digests)) <= {str}
        and (not ids or min(ids) >= 0)
    ):
        return None
    return dict(zip(ids, zip(md5s, digests, strict=True), strict=True))
