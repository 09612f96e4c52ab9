"""`app.state.opencti`: the emulator's store, clock, faults, counters — and the test hooks.

Tests reach the hooks in-process (`state.create_indicator(...)`, `state.advance(...)`) or over
HTTP (`/__sandbox/...`, see `routes_sandbox.py`).
"""

from __future__ import annotations

import json
import time
from collections import Counter, deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from octi_sandbox.opencti import loader
from octi_sandbox.opencti.config import OpenCTIConfig
from octi_sandbox.opencti.events import EventLog
from octi_sandbox.opencti.executor import Executor
from octi_sandbox.opencti.faults import Faults
from octi_sandbox.opencti.listing import Lister
from octi_sandbox.opencti.records import Record
from octi_sandbox.opencti.store import Clock, Store

DEMO_SEED = Path(__file__).resolve().parent.parent / "seed" / "demo-opencti.json"


class OpenCTIState:
    def __init__(self, config: OpenCTIConfig | None = None) -> None:
        self.config = config or OpenCTIConfig()
        self.executor = Executor(self.config)
        self.faults = Faults(self.config.fault_seed)
        self.requests: Counter[str] = Counter()
        self._window: deque[float] = deque()
        self.events = EventLog(self.config.stream_retention)
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def reset(self, seed: str | None = None) -> None:
        """Back to the configured start: empty (or demo) store, clock, counters, no faults."""
        self.clock = Clock(self.config.start)
        self.store = Store(self.clock)
        self.events.clear()
        self.store.on_event = self.events.emit
        self.store.on_merge = self.events.emit_merge
        self.lister = Lister()
        self.requests.clear()
        self._window.clear()
        self.faults.clear(self.config.fault_seed)
        self.faults.injected.clear()
        if (seed or self.config.seed) == "demo":
            seed_demo(self)

    def seed(self, data: Any) -> dict[str, int]:
        """Load a decoded bundle / JSON list / stream-event list (absent fields stay absent)."""
        return loader.load_data(self.store, data)

    def seed_file(self, path: Path) -> dict[str, int]:
        return self.seed(json.loads(path.read_bytes()))

    # ------------------------------------------------------------------ test hooks

    def create_indicator(self, **fields: Any) -> Record:
        return loader.create_indicator(self.store, **fields)

    def create_observable(self, **fields: Any) -> Record:
        return loader.create_observable(self.store, **fields)

    def update(self, any_id: str, **changes: Any) -> Record:
        return self.store.update(any_id, changes)

    def revoke(self, any_id: str) -> Record:
        return self.store.revoke(any_id)

    def delete(self, any_id: str) -> bool:
        return self.store.delete(any_id) is not None

    def advance(self, delta: timedelta, *, expire: bool = True) -> int:
        """Move the clock; with `expire`, run the expiration manager (returns revocations)."""
        self.clock.advance(delta)
        return self.store.expire() if expire else 0

    def set_time(self, at: datetime, *, expire: bool = False) -> int:
        self.clock.set(at)
        return self.store.expire() if expire else 0

    # ------------------------------------------------------------------ bookkeeping

    def count(self, operation: str | None, fields: list[str]) -> None:
        self.requests["total"] += 1
        self.requests[f"operation:{operation or '-'}"] += 1
        for field in fields:
            self.requests[f"field:{field}"] += 1

    def rate_limited(self) -> bool:
        if self.config.rate_limit is None:
            return False
        limit, seconds = self.config.rate_limit
        now = time.monotonic()
        while self._window and self._window[0] <= now - seconds:
            self._window.popleft()
        if len(self._window) >= limit:
            return True
        self._window.append(now)
        return False

    def snapshot(self, objects: bool = False) -> dict[str, Any]:
        grouped: dict[str, dict[str, int]] = {}
        for key, value in self.requests.items():
            kind, _, name = key.partition(":")
            if name:
                grouped.setdefault(kind, {})[name] = value
        body: dict[str, Any] = {
            "version": self.config.version,
            "clock": self.clock.now().isoformat(),
            "counts": self.store.counts(),
            "requests": {"total": self.requests["total"], **grouped},
            "faults": self.faults.to_json(),
            "faults_injected": dict(self.faults.injected),
        }
        if objects:
            body["objects"] = [_summary(r) for r in self.store.entities.values()]
        return body


def _summary(record: Record) -> dict[str, Any]:
    keys = (
        "id",
        "standard_id",
        "entity_type",
        "name",
        "pattern",
        "pattern_type",
        "value",
        "revoked",
        "x_opencti_score",
        "x_opencti_detection",
        "valid_until",
        "updated_at",
    )
    out = {k: record.get(k) for k in keys if record.get(k) is not None}
    out["labels"] = [label["value"] for label in record.get("objectLabel") or ()]
    out["markings"] = [m["definition"] for m in record.get("objectMarking") or ()]
    return json.loads(json.dumps(out, default=str))  # type: ignore[no-any-return]


def seed_demo(state: OpenCTIState) -> dict[str, int]:
    """Load the demo knowledge base (`sandbox/octi_sandbox/seed/demo-opencti.json`)."""
    return state.seed_file(DEMO_SEED)
