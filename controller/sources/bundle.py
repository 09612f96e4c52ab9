"""`--source bundle:PATH`: a STIX 2.1 bundle, a JSON list of objects, or OpenCTI stream events.

For CI and offline review. A bundle is complete by construction: what is in the file is the
whole desired input.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from controller.core.model import SourceObject, SourceSnapshot
from controller.errors import UserError
from controller.sources.stix import UnreadableObject, marking_names, to_source_object, unwrap


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
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BundleError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    del raw  # the bytes are not needed once decoded
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
