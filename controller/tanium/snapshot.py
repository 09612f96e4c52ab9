"""Snapshots of Tanium's owned inventory, for plans made without a Tanium credential.

`octi-tanium snapshot --out FILE` records what Tanium holds (read-only); `plan --actual
snapshot:FILE` plans against it. The file names the Tanium it was taken from (URL without
credentials, managed source), when, and the inventory fingerprint, so that `apply` can refuse a
plan made against a snapshot the live inventory no longer matches.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from controller.core.model import ActualState
from controller.core.plan import inventory_fingerprint
from controller.errors import UserError
from controller.jsonfile import first_problem, read_json

SNAPSHOT_FORMAT: Final = "octi-tanium/snapshot/v1"


class SnapshotError(UserError):
    """A snapshot file that cannot be read or is not a snapshot; the message says what to do."""


class Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["octi-tanium/snapshot/v1"] = SNAPSHOT_FORMAT
    taken_at: datetime
    tanium_url: str
    """The Tanium API root, without credentials, query or fragment."""
    source: str
    """The managed intel source the inventory belongs to."""
    fingerprint: str
    state: ActualState


def public_url(url: str) -> str:
    """`url` without user, password, query or fragment, lower-case host, no trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


def take(state: ActualState, *, tanium_url: str, taken_at: datetime) -> Snapshot:
    return Snapshot(
        taken_at=taken_at,
        tanium_url=public_url(tanium_url),
        source=state.source_name,
        fingerprint=inventory_fingerprint(state),
        state=state,
    )


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write atomically: a reader never sees half a snapshot."""
    text = json.dumps(snapshot.model_dump(mode="json"), indent=1, sort_keys=True) + "\n"
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise SnapshotError(
            f"cannot write snapshot {path}: {exc.strerror}; check that the folder exists "
            "and is writable"
        ) from exc


def read_snapshot(path: Path) -> Snapshot:
    data = read_json(
        path,
        what="snapshot",
        error=SnapshotError,
        hint="; make one with `octi-tanium snapshot --out FILE`",
    )
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise SnapshotError(
            f"{path}: not an octi-tanium snapshot (format {found!r}, expected "
            f"{SNAPSHOT_FORMAT!r}); make one with `octi-tanium snapshot --out FILE`"
        )
    try:
        snapshot = Snapshot.model_validate(data)
    except ValidationError as exc:
        raise SnapshotError(f"{path}: invalid snapshot {first_problem(exc)}") from exc
    if inventory_fingerprint(snapshot.state) != snapshot.fingerprint:
        raise SnapshotError(
            f"{path}: the inventory does not match its fingerprint (the file was edited); "
            "take a new snapshot"
        )
    return snapshot
