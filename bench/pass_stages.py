"""Where one `plan` pass spends its time: the driver `octi-tanium plan` runs
(`controller.reconcile.reconcile`, mode "plan"), in a process of its own, timed stage by stage
through the driver's own progress hooks — the source (`counters`), "Reading Tanium…" (the
inventory, the write journal, the tenant's terms), "Planning…" (the pure stage; the desired
state timed apart by wrapping `build_desired`), "Reading the changed documents…" (changed
items only) — plus the imports before it and the rest (policies, pivot, warnings). Prints one
JSON object. The environment is the CLI's (`TANIUM_*`, `OPENCTI_*`, `OCTI_TANIUM_STATE_DIR`).

    python -m bench.pass_stages SOURCE POLICIES      # SOURCE: opencti | bundle:PATH

Used by `bench.bench_pass`; imports nothing before the clock starts, as the CLI.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

STAGES = {"Reading Tanium": "tanium", "Planning": "pure", "Reading the changed": "bodies"}


class Recorder:
    """A `controller.reconcile.Progress` that records how long each step took."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def _add(self, name: str, started: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    @contextlib.contextmanager
    def status(self, message: str) -> Iterator[None]:
        name = next((v for k, v in STAGES.items() if message.startswith(k)), message)
        started = time.perf_counter()
        try:
            yield
        finally:
            self._add(name, started)

    @contextlib.contextmanager
    def counters(self) -> Iterator[Callable[[str, int, int | None], None]]:
        started = time.perf_counter()
        try:
            yield lambda label, done, total: None
        finally:
            self._add("source", started)


def main(argv: list[str]) -> None:
    source, policies = argv[0], Path(argv[1])
    import controller.reconcile as driver

    imported = time.perf_counter()
    recorder = Recorder()
    build = getattr(driver, "build_desired", None)  # timed apart while the driver calls it

    def timed_build(*args: Any, **kwargs: Any) -> Any:
        assert build is not None
        started = time.perf_counter()
        try:
            return build(*args, **kwargs)
        finally:
            recorder._add("desired", started)

    if build is not None:
        driver.build_desired = timed_build  # type: ignore[attr-defined]
    begun = time.perf_counter()
    outcome = asyncio.run(
        driver.reconcile(policies, source, mode="plan", now=datetime.now(UTC), progress=recorder)
    )
    done = time.perf_counter()
    seconds = recorder.seconds
    seconds["imports"] = imported - STARTED
    seconds["pass"] = done - begun
    if "desired" in seconds:
        seconds["diff+plan"] = seconds.get("pure", 0.0) - seconds["desired"]
    accounted = sum(seconds.get(k, 0.0) for k in ("source", "tanium", "pure", "bodies"))
    seconds["rest"] = seconds["pass"] - accounted
    summary = outcome.plan.summary
    print(
        json.dumps(
            {
                "seconds": seconds,
                "exit_code": outcome.exit_code,
                "objects": len(outcome.snapshot.objects) if outcome.snapshot else 0,
                "no_op": summary.no_op,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
