"""The scheduled reconciler: one pass = `reconcile(mode="apply")`, level-triggered and
idempotent, under the writer lease of its target.

`run --once` does one pass. `run` schedules passes with APScheduler — never two at once, the
next one `Settings.spec.schedule.interval` (+ jitter) after the previous one ended, re-read at
every pass — keeps the lease across passes (the other replicas stand by), and serves
`/metrics`, `/healthz`, `/readyz` (`health`). Outside the change windows a pass plans and
reports only. What each pass came to: `outcome`. Signals and the listen socket: `lifecycle`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette

from controller.collector import Between
from controller.errors import OctiTaniumError
from controller.lease import LeaseLost, LockBusy, redact
from controller.policy.models import Schedule
from controller.reconcile import Outcome, PassMemory, Progress, load_checked, reconcile
from controller.retry import Timing
from controller.run.health import health_app
from controller.run.leader import Leadership, Stopping, target_of
from controller.run.logs import pass_context
from controller.run.metrics import (
    CONSECUTIVE_FAILURES,
    DURATION,
    ITEMS,
    LAST_SUCCESS,
    PASSES,
    observe_plan,
)
from controller.run.outcome import PassResult, classify, failed
from controller.run.requests import metered_timing
from controller.run.windows import writes_allowed
from controller.writeback.step import sightings_after_pass

log = logging.getLogger("octi_tanium.reconciler")
DEFAULT_UNREADY_AFTER = 3
OBJECTS = ("intel", "blocklist")


class Reconciler:
    """The passes of one installation: the lease held across them, the count of failed
    passes in a row (`/readyz` turns unready at `unready_after`), the last schedule read."""

    def __init__(
        self,
        policies: Path,
        source: str,
        *,
        lock_timeout: float = 0.0,
        unready_after: int = DEFAULT_UNREADY_AFTER,
        progress: Progress | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.policies = policies
        self.source = source
        self.leadership = Leadership(lock_timeout)
        self.unready_after = unready_after
        self.progress = progress
        self.timing = timing
        self.passes = 0
        self.failures = 0
        self.last: PassResult | None = None
        self.schedule = Schedule()
        self._one_pass = asyncio.Lock()  # scheduled and stream-triggered passes take turns
        self.memory = PassMemory()
        """What each pass leaves for the next (`PassMemory`): the passes take turns with it."""
        self._between = Between()

    # ------------------------------------------------------------------ readiness

    @property
    def ready(self) -> bool:
        """A pass has completed, and fewer than `unready_after` failed in a row."""
        return self.passes > 0 and self.failures < self.unready_after

    @property
    def last_code(self) -> int | None:
        return None if self.last is None else self.last.exit_code

    def readiness(self) -> str:
        if self.passes == 0:
            return "starting: the first pass has not completed"
        last = self.last.message if self.last else ""
        if not self.ready:
            return f"unready: {self.failures} failed pass(es) in a row; last: {last}"
        return f"ready (last pass {self.last.outcome if self.last else '-'}: {last})"

    def app(self) -> Starlette:
        return health_app(self)

    # ------------------------------------------------------------------ one pass

    async def tick(self) -> PassResult:
        """One pass, whatever happens in it: classified, logged, counted, never raised."""
        async with self._one_pass:
            started = time.monotonic()
            with pass_context():
                result = await self._guarded_pass()
                self._record(result, time.monotonic() - started)
            self._between.settle()  # what the pass keeps, out of the collector's walks
        return result

    async def _guarded_pass(self) -> PassResult:
        try:
            return await self._pass()
        except LockBusy as exc:
            return PassResult("standby", 1, str(exc))
        except LeaseLost as exc:
            self.leadership.release()
            return PassResult("deposed", 1, str(exc))
        except Stopping as exc:
            return PassResult("stopped", 0, str(exc))
        except OctiTaniumError as exc:
            return failed(exc.explain())
        except Exception as exc:  # a bug: fail the pass, keep the reconciler alive
            log.exception("unexpected error in the pass")
            return failed(f"unexpected error: {type(exc).__name__}: {exc}")

    async def _pass(self) -> PassResult:
        self.leadership.new_pass()
        settings = load_checked(self.policies).policies.settings
        self.schedule = settings.schedule
        now = datetime.now(UTC)
        open_ = writes_allowed(settings.schedule, now)
        if open_:
            await asyncio.to_thread(self.leadership.ensure, target_of(settings.source))
        outcome = await reconcile(
            self.policies,
            self.source,
            mode="apply" if open_ else "plan",
            now=now,
            progress=self.progress,
            timing=self.timing or metered_timing(),
            fence=self.leadership,
            incremental=True,
            memory=self.memory,
        )
        if open_:  # alerts → sightings: a step of every pass that may write
            await sightings_after_pass(outcome, now=datetime.now(UTC), timing=self.timing)
        _observe(outcome)
        return classify(outcome, window_open=open_, source=describe(self.source))

    def _record(self, result: PassResult, seconds: float) -> None:
        DURATION.observe(seconds)
        PASSES.labels(result.outcome).inc()
        self.passes += 1
        if result.success:
            LAST_SUCCESS.set(time.time())
            self.failures = 0
        elif result.failure:
            self.failures += 1
        CONSECUTIVE_FAILURES.set(self.failures)
        self.last = result
        level = {"failed": logging.ERROR, "ok": logging.INFO, "stopped": logging.INFO}
        log.log(
            level.get(result.outcome, logging.WARNING),
            "pass %s (exit %d): %s",
            result.outcome,
            result.exit_code,
            result.message,
        )

    def close(self) -> None:
        """Give the lease back (shutdown)."""
        self.leadership.release()


def describe(source: str) -> str:
    """The source as messages name it: `OpenCTI at URL` (no credentials), or the bundle."""
    if source != "opencti":
        return f"the source {source}"
    url = os.environ.get("OPENCTI_URL", "").strip()
    return f"OpenCTI at {redact(url)}" if url else "OpenCTI"


def _observe(outcome: Outcome) -> None:
    """Metrics and log lines of a pass that ran to its end."""
    plan = outcome.plan
    actual = outcome.actual
    observe_plan(
        plan,
        desired=outcome.desired.size if outcome.desired is not None else 0,
        owned=sum(1 for i in plan.items if i.tanium_id is not None and i.kind in OBJECTS),
        actual=len(actual.intel) + len(actual.blocklist) if actual is not None else 0,
    )
    report = outcome.report
    if report is None:
        return
    for result in report.results:
        item = result.item
        ITEMS.labels(item.kind, item.action, result.status).inc()
        log.log(
            logging.ERROR if result.status == "failed" else logging.INFO,
            "%s %s %s [%s]: %s%s",
            item.action,
            item.kind,
            item.name or item.key,
            item.reason,
            result.status,
            f" ({result.message})" if result.message else "",
        )


async def run_once(
    policies: Path,
    source: str,
    *,
    progress: Progress | None = None,
    timing: Timing | None = None,
    lock_timeout: float = 0.0,
) -> int:
    """One pass under the lease, which is given back after it; the CLI's exit code."""
    reconciler = Reconciler(
        policies, source, lock_timeout=lock_timeout, progress=progress, timing=timing
    )
    try:
        return (await reconciler.tick()).exit_code
    finally:
        reconciler.close()
