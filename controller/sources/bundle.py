"""`--source bundle:PATH`: a STIX 2.1 bundle, a JSON list of objects, or OpenCTI stream events.

For CI and offline review. A bundle is complete by construction: what is in the file is the
whole desired input.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Generator, Mapping
from datetime import datetime
from json.scanner import make_scanner
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

from controller.core.model import SourceObject, SourceSnapshot
from controller.errors import UserError
from controller.sources.stix import (
    UnreadableObject,
    marking_names,
    marking_tuple,
    plain_indicator,
    source_fields,
    stamp,
    to_source_object,
    unwrap,
    unwrap_as,
)


class BundleError(UserError):
    """The bundle file cannot be read or is not STIX."""


def parse_bundle(data: Any, *, consume: bool = False) -> tuple[list[SourceObject], list[str]]:
    """Pure: decoded JSON → source objects (indicators and observables), and the problems of
    the objects that could not be read (they make the snapshot incomplete: no deletes).

    With `consume`, `data` is emptied as it is read, so each decoded object is freed once
    mapped: the decoded JSON (~13× the file's size) and the source objects never all live
    at once."""
    if isinstance(data, dict) and isinstance(data.get("objects"), list):
        records: list[Any] = data["objects"]
    elif isinstance(data, list):
        records = data
    elif isinstance(data, dict) and "type" in data:
        records = [data]
    else:
        raise BundleError(
            'not a STIX bundle: expected {"type": "bundle", "objects": [...]}, '
            "a JSON list of STIX objects, or a list of OpenCTI stream events"
        )
    objects = unwrap(records)
    if consume:
        records.clear()  # `objects` holds what is still needed
    markings = marking_names(objects)
    out: list[SourceObject] = []
    problems: list[str] = []
    objects.reverse()  # `objects` is our own list: pop each one, in the original order
    while objects:
        obj = objects.pop()
        try:
            mapped = to_source_object(obj, markings)
        except UnreadableObject as exc:
            problems.append(str(exc))
            continue
        if mapped is not None:
            out.append(mapped)
    return out, problems


def read_bundle(path: Path, *, now: datetime) -> SourceSnapshot:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror}") from exc
    fingerprint = hashlib.sha256(raw).hexdigest()[:16]
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")  # as `json.loads`
    except UnicodeDecodeError:
        text = None
    del raw  # the bytes are not needed once decoded
    kept: list[_Entry] | None = None
    with contextlib.suppress(_NotStreamable, ValueError):  # another shape, or invalid JSON
        kept = _collect(text) if text is not None else None
    if kept is not None:
        del text  # the objects are decoded: free the text before building them
        objects, problems = _build(kept)
    else:
        try:
            data = json.loads(path.read_bytes() if text is None else text)
        except OSError as exc:
            raise BundleError(f"cannot read bundle {path}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise BundleError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        except UnicodeDecodeError as exc:
            raise BundleError(f"{path}: invalid JSON: {exc}") from exc
        del text
        try:
            objects, problems = parse_bundle(data, consume=True)
        except BundleError as exc:
            raise BundleError(f"{path}: {exc}") from exc
    reasons: tuple[str, ...] = ()
    if problems:
        shown = "; ".join(problems[:3]) + (
            f"; … {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        reasons = (f"{len(problems)} object(s) of {path} could not be read: {shown}",)
    return SourceSnapshot(
        objects=tuple(objects),
        complete=not problems,
        incomplete_reasons=reasons,
        snapshot_time=now,
        query_hash="bundle:" + fingerprint,
    )


# ---------------------------------------------------------------------------- object by object
#
# `json.loads` of a whole bundle holds every decoded object at once (~4x the file, 250 MB for
# 100,000 indicators) on top of what they are mapped to. A bundle (`{..., "objects": [...]}`)
# or a list is read here one element at a time instead: each is decoded, mapped and dropped,
# and what `unwrap` needs of it (id, `modified`) is kept beside the mapped fields. The result
# is exactly `parse_bundle`'s (`tests/unit/test_bundle_stream.py` compares them); any other
# shape, and any invalid JSON, takes the `json.loads` path, which words the error.


class _NotStreamable(Exception):
    """Not a shape read object by object (the whole-document path decides)."""


_WS = re.compile(r"[ \t\n\r]+")
_Decode = Callable[[str, int], tuple[Any, int]]


def _skip(text: str, i: int) -> int:
    """The index of the first character at or after `i` that is not JSON whitespace."""
    space = _WS.match(text, i)
    return i if space is None else space.end()


def _elements(text: str) -> Generator[Any, None, None]:
    """The elements of the top-level list, or of the `objects` list of the top-level object,
    decoded one at a time. Raises `_NotStreamable` (or `ValueError`) where `json.loads`
    would fail or the document is another shape."""
    decoder = json.JSONDecoder()
    decode: _Decode = decoder.raw_decode
    scan: _Decode = make_scanner(cast(Any, decoder))  # what `raw_decode` calls
    i = _skip(text, 0)
    if text.startswith("[", i):
        i = yield from _array(text, i, scan)
    elif text.startswith("{", i):
        i = _skip(text, i + 1)
        found = False
        if text.startswith("}", i):
            raise _NotStreamable
        while True:
            if not text.startswith('"', i):
                raise _NotStreamable
            key, i = decode(text, i)
            i = _skip(text, i)
            if not text.startswith(":", i):
                raise _NotStreamable
            i = _skip(text, i + 1)
            if key == "objects":
                if found or not text.startswith("[", i):
                    raise _NotStreamable  # `json.loads` keeps the last; not a list: not a bundle
                found = True
                i = yield from _array(text, i, scan)
            else:
                _, i = decode(text, i)
            i = _skip(text, i)
            if text.startswith(",", i):
                i = _skip(text, i + 1)
                continue
            if text.startswith("}", i):
                i += 1
                break
            raise _NotStreamable
        if not found:
            raise _NotStreamable
    else:
        raise _NotStreamable
    if _skip(text, i) != len(text):
        raise _NotStreamable


def _array(text: str, i: int, scan: _Decode) -> Generator[Any, None, int]:
    """Yield the elements of the list at `text[i]` (`[`); return the index after it.

    `scan` is the decoder's scanner (`raw_decode` without its frame): it raises
    `StopIteration` where no value starts."""
    i = _skip(text, i + 1)
    if text.startswith("]", i):
        return i + 1
    while True:
        try:
            value, i = scan(text, i)
        except StopIteration:
            raise _NotStreamable from None
        yield value
        if text.startswith(", {", i):  # `json.dumps`'s separator, then the next object
            i += 2
            continue
        i = _skip(text, i)
        if text.startswith(",", i):
            i = _skip(text, i + 1)
        elif text.startswith("]", i):
            return i + 1
        else:
            raise _NotStreamable


_Mapped = tuple[dict[str, Any], tuple[str, ...]] | str | None
_Entry = tuple[_Mapped, datetime | None, Mapping[str, Any] | None]
"""One object as `unwrap` keeps it: what it maps to (fields and marking refs, a problem, or
nothing), its `modified`, and the object itself if it defines a marking (a plain tuple:
one per object)."""


def _entry(obj: Mapping[str, Any]) -> _Entry:
    plain = plain_indicator(obj)  # `source_fields`' own first step, and the stamp with it
    if plain is not None:
        return plain, plain[0]["modified"], None
    try:
        mapped: _Mapped = source_fields(obj)
    except UnreadableObject as exc:
        mapped = str(exc)
    return mapped, stamp(obj), obj if obj.get("type") == "marking-definition" else None


def stream_bundle(text: str) -> tuple[list[SourceObject], list[str]]:
    """`parse_bundle(json.loads(text))`, one element at a time (see above)."""
    return _build(_collect(text))


def _collect(text: str) -> list[_Entry]:
    """`unwrap`, on entries instead of objects."""
    return unwrap_as(_elements(text), _entry, itemgetter(1))


def _build(kept: list[_Entry]) -> tuple[list[SourceObject], list[str]]:
    """The objects and problems of the entries `_collect` kept; `kept` is emptied as it is
    read, so each entry is freed once its object is built (the object takes its fields
    over as its own `__dict__`: `SourceObject.adopt`)."""
    markings = marking_names(marking for _, _, marking in kept if marking is not None)
    named: dict[tuple[str, ...], tuple[str, ...]] = {}  # refs → names, each named once
    adopt = SourceObject.adopt
    out: list[SourceObject] = []
    problems: list[str] = []
    kept.reverse()
    while kept:
        mapped = kept.pop()[0]
        if isinstance(mapped, str):
            problems.append(mapped)
        elif mapped is not None:  # `with_markings`, its names looked up once per refs
            fields, refs = mapped
            names = named.get(refs)
            if names is None:
                names = named[refs] = marking_tuple(refs, markings)
            fields["markings"] = names
            out.append(adopt(fields))
    return out, problems
