"""The sightings loop's durable state: how far the alerts were read, and a journal of the
writes in flight. One JSON file per (Tanium host, managed source) under
`$OCTI_TANIUM_STATE_DIR/sightings/`, written atomically (a temporary file, then a rename):
a crash leaves the old file or the new one, never half of one.

- `cursor`: `alerted_at` (every alert before it is counted) and `ids` (the alerts *at* it
  already counted: `alertedAtFrom` is inclusive, so they are read again and skipped).
- `pending`: the writes of a batch and the cursor it leads to, saved *before* the first write.
  A pass killed half-way replays exactly these writes first (OpenCTI upserts them by their
  deterministic ids and the same bounds: nothing counts twice), then moves on.

Nothing here is stored in Tanium, and a lost file is recovered (see `sightings.py`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from controller.core.sightings import SightingWrite
from controller.errors import UserError
from controller.lease.config import state_dir

FORMAT = "octi-tanium/sightings-state/v1"


class SightingsStateError(UserError):
    """The sightings state file cannot be read or written."""


@dataclass(frozen=True)
class Cursor:
    alerted_at: datetime
    ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"alerted_at": self.alerted_at.isoformat(), "ids": list(self.ids)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cursor:
        return cls(datetime.fromisoformat(data["alerted_at"]), tuple(int(i) for i in data["ids"]))


@dataclass(frozen=True)
class Pending:
    writes: tuple[SightingWrite, ...]
    cursor: Cursor


@dataclass
class SightingsState:
    cursor: Cursor | None = None
    pending: Pending | None = None
    hosts: dict[str, str] = field(default_factory=dict)
    """Host name → the OpenCTI id of its `System` identity (a cache: systemAdd upserts)."""


def state_path(tanium_url: str, source: str, base: Path | None = None) -> Path:
    """The state file of one (Tanium host, managed source)."""
    digest = hashlib.sha256(f"{tanium_url.rstrip('/')}\n{source}".encode()).hexdigest()[:16]
    return (base or state_dir()) / "sightings" / f"{digest}.json"


def load(path: Path) -> SightingsState:
    """The saved state; an absent file is a fresh (cursor-less) state."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SightingsState()
    except OSError as exc:
        raise SightingsStateError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
        cursor = Cursor.from_json(data["cursor"]) if data.get("cursor") else None
        pending = None
        if data.get("pending"):
            raw = data["pending"]
            writes = tuple(SightingWrite.from_json(w) for w in raw["writes"])
            pending = Pending(writes, Cursor.from_json(raw["cursor"]))
        hosts = {str(k): str(v) for k, v in (data.get("hosts") or {}).items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SightingsStateError(
            f"{path}: not a sightings state file ({exc}); delete it to re-read a bounded "
            "window of alerts (nothing is counted twice)"
        ) from exc
    return SightingsState(cursor, pending, hosts)


def save(path: Path, state: SightingsState) -> None:
    data: dict[str, Any] = {
        "format": FORMAT,
        "cursor": state.cursor.to_json() if state.cursor else None,
        "pending": (
            {
                "writes": [w.to_json() for w in state.pending.writes],
                "cursor": state.pending.cursor.to_json(),
            }
            if state.pending
            else None
        ),
        "hosts": dict(sorted(state.hosts.items())),
    }
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise SightingsStateError(
            f"cannot write {path}: {exc.strerror}; check that OCTI_TANIUM_STATE_DIR is writable"
        ) from exc
