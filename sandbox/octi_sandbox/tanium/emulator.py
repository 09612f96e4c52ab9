"""The emulator object behind one app: configuration, state and fault injector together.

Reachable as `app.state.tanium` for in-process tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from .config import Seed, TaniumConfig
from .faults import FaultInjector, FaultRule
from .models import JSON
from .seed import apply_seed
from .state import TaniumState


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _field_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for name, info in TaniumConfig.model_fields.items():
        names[name] = name
        if info.alias:
            names[info.alias] = name
    return names


class TaniumEmulator:
    def __init__(
        self,
        config: TaniumConfig | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.initial_config = (config or TaniumConfig()).model_copy(deep=True)
        self.config = self.initial_config.model_copy(deep=True)
        self.state = TaniumState(clock, monotonic)
        self.faults = FaultInjector(self.config.fault_seed)
        self._faults_at_reset = 0
        self.reset(keep_config=True)

    def reset(self, seed: Seed | None = None, *, keep_config: bool = False) -> None:
        """Back to the seed: state, faults and (unless kept) the configuration given at start."""
        with self.state.lock:
            if not keep_config:
                self.config = self.initial_config.model_copy(deep=True)
            if seed is not None:
                self.config = self.config.model_copy(update={"seed": seed})
            self.state.clear()
            self.faults.clear(self.config.fault_seed)  # `injected` survives (lifetime total)
            self._faults_at_reset = self.faults.injected
            apply_seed(self.state, self.config)

    def update_config(self, patch: Mapping[str, Any]) -> TaniumConfig:
        """Flip switches at run time; keys are field names or their camelCase aliases.

        Raises `KeyError` for unknown keys and pydantic's `ValidationError` for bad values.
        """
        names = _field_names()
        unknown = [k for k in patch if k not in names]
        if unknown:
            raise KeyError(f"unknown setting(s): {', '.join(unknown)}")
        data = self.config.model_dump()
        data.update({names[k]: v for k, v in patch.items()})
        new = TaniumConfig.model_validate(data)
        with self.state.lock:
            if new.fault_seed != self.config.fault_seed:
                self.faults.reseed(new.fault_seed)
            self.config = new
        return new

    def configure(self, **changes: Any) -> TaniumConfig:
        return self.update_config(changes)

    def add_fault(self, rule: FaultRule | Mapping[str, Any]) -> int:
        parsed = rule if isinstance(rule, FaultRule) else FaultRule.model_validate(rule)
        with self.state.lock:
            return self.faults.add(parsed)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.faults.clear(self.config.fault_seed)

    def counters(self) -> JSON:
        """The request counters of `snapshot` alone (faults injected since the last reset)."""
        with self.state.lock:
            data = self.state.counters.to_json()
            data["faults"] = self.faults.injected - self._faults_at_reset
            return data

    def snapshot(self, contents: bool = True) -> JSON:
        with self.state.lock:
            data = self.state.snapshot(contents)
            data["counters"] = self.counters()
            data["faults"] = self.faults.to_json()
            data["config"] = self.config.model_dump(mode="json")
            return data
