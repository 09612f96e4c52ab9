"""The scheduled reconciler: one pass = `reconcile(mode="apply")`, level-triggered and
idempotent.

`run --once` does one pass. `run` schedules passes with APScheduler at the interval of
`Settings.spec.schedule` (never two at once: `max_instances=1`, plus a file lock so a second
replica on the same host waits), and serves `/metrics`, `/healthz`, `/readyz` (`health`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette

from controller.errors import OctiTaniumError, UserError
from controller.policy.models import parse_duration
from controller.reconcile import Outcome, Progress, load_checked, reconcile
from controller.retry import Timing
from controller.run.health import health_app
from controller.run.lock import LockBusy, file_lock
from controller.run.logs import configure_logging
from controller.run.metrics import BLOCKED, DURATION, ITEMS, LAST_SUCCESS, PASSES
from controller.writeback.step import sightings_after_pass

log = logging.getLogger("octi_tanium.reconciler")


async def run_once(
    policies: Path,
    source: str,
    *,
    progress: Progress | None = None,
    timing: Timing | None = None,
) -> int:
    """One pass; returns the exit code (0 ok, 1 error, 3 blocked by a guard)."""
    started = time.monotonic()
    try:
        with file_lock():  # held for the whole pass
            outcome = await reconcile(
                policies,
                source,
                mode="apply",
                now=datetime.now(UTC),
                on_plan=lambda plan: BLOCKED.set(sum(1 for i in plan.items if i.blocked)),
                progress=progress,
                timing=timing,
            )
            await sightings_after_pass(outcome, now=datetime.now(UTC), timing=timing)
        _log_outcome(outcome)
        code = outcome.exit_code
    except LockBusy as exc:
        log.warning("pass skipped: %s", exc.explain())
        PASSES.labels("skipped").inc()
        return 1
    except OctiTaniumError as exc:
        log.error("pass failed: %s", exc.explain())
        PASSES.labels("error").inc()
        return 1
    finally:
        DURATION.observe(time.monotonic() - started)
    PASSES.labels({0: "ok", 3: "blocked"}.get(code, "error")).inc()
    if code in (0, 3):
        LAST_SUCCESS.set(time.time())
    return code


def _log_outcome(outcome: Outcome) -> None:
    report = outcome.report
    if report is None:
        log.info("pass: no changes, %d object(s) in sync", outcome.plan.summary.no_op)
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
    log.info("pass: applied %d item(s), %d failed", len(report.results), len(report.failed))


class Reconciler:
    """The scheduled loop's state and its HTTP face (`health`): ready once a first pass has
    completed, whatever its outcome."""

    def __init__(self, policies: Path, source: str) -> None:
        self.policies = policies
        self.source = source
        self.ready = False
        self.last_code: int | None = None

    async def tick(self) -> None:
        self.last_code = await run_once(self.policies, self.source)
        self.ready = True

    def app(self) -> Starlette:
        return health_app(self)


def run_forever(policies: Path, source: str, *, host: str, port: int) -> None:
    import uvicorn
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    configure_logging()
    try:
        interval = parse_duration(load_checked(policies).policies.settings.schedule.interval)
    except UserError as exc:
        raise SystemExit(f"error: {exc}") from None
    reconciler = Reconciler(policies, source)

    async def main() -> None:
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            reconciler.tick,
            "interval",
            seconds=interval.total_seconds(),
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        config = uvicorn.Config(reconciler.app(), host=host, port=port, log_level="warning")
        server = uvicorn.Server(config)
        log.info("reconciling every %s; metrics on http://%s:%d/metrics", interval, host, port)
        try:
            await server.serve()
        finally:
            scheduler.shutdown(wait=False)

    asyncio.run(main())
