"""Where one `plan` pass spends its time: the driver `octi-tanium plan` runs
(`controller.reconcile.reconcile`, mode "plan"), in a process of its own, timed stage by stage
through the driver's own progress hooks — the source (`counters`), "Reading Tanium…" (the
inventory, the write journal, the tenant's terms), "Planning…" (the pure stage), "Reading the
changed documents…" (changed items only) — and by wrapping the driver's own calls where it
has no hook (`build_desired` within the pure stage; `load_checked`, `unowned_objects`,
`with_policy_warnings`), then the text report the CLI prints (`render_text`). Prints one JSON
object; `in_process` is the time since the interpreter ran this module (the rest of a
process's wall is interpreter start-up and exit). The environment is the CLI's (`TANIUM_*`,
`OPENCTI_*`, `OCTI_TANIUM_STATE_DIR`).

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
WRAPPED = {
    "build_desired": "desired",
    "load_checked": "policies",
    "unowned_objects": "unowned",
    "with_policy_warnings": "warnings",
}


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


def timed(function: Callable[..., Any], stage: str, recorder: Recorder) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            recorder._add(stage, started)

    return run


def main(argv: list[str]) -> None:
    source, policies = argv[0], Path(argv[1])
    import controller.reconcile as driver

    imported = time.perf_counter()
    recorder = Recorder()
    for name, stage in WRAPPED.items():
        wrapped = getattr(driver, name, None)  # absent after a refactoring: not timed
        if wrapped is not None:
            setattr(driver, name, timed(wrapped, stage, recorder))
    begun = time.perf_counter()
    outcome = asyncio.run(
        driver.reconcile(policies, source, mode="plan", now=datetime.now(UTC), progress=recorder)
    )
    done = time.perf_counter()
    from controller.report.text import render_text

    render_text(outcome.plan)
    seconds = recorder.seconds
    seconds["report"] = time.perf_counter() - done
    seconds["imports"] = imported - STARTED
    seconds["pass"] = done - begun
    if "desired" in seconds:
        seconds["diff+plan"] = seconds.get("pure", 0.0) - seconds["desired"]
    accounted = ("source", "tanium", "pure", "bodies", "policies", "unowned", "warnings")
    seconds["rest"] = seconds["pass"] - sum(seconds.get(k, 0.0) for k in accounted)
    seconds["in_process"] = time.perf_counter() - STARTED
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
