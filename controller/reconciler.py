"""The scheduled reconciler: one pass = plan + apply, level-triggered and idempotent.

`run --once` does one pass. `run` schedules passes with APScheduler at the interval of
`Settings.spec.schedule` (never two at once: `max_instances=1`, plus a file lock so a second
replica on the same host waits), and serves `/metrics`, `/healthz`, `/readyz`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from controller.lock import LockBusy, file_lock
from controller.policy.models import parse_duration

log = logging.getLogger("octi_tanium.reconciler")

PASSES = Counter("octi_tanium_passes_total", "Reconcile passes", ["outcome"])
ITEMS = Counter("octi_tanium_items_total", "Plan items applied", ["kind", "action", "status"])
DURATION = Histogram("octi_tanium_pass_seconds", "Duration of a reconcile pass")
LAST_SUCCESS = Gauge("octi_tanium_last_success_timestamp", "Unix time of the last good pass")
BLOCKED = Gauge("octi_tanium_blocked_items", "Items withheld by a safety guard in the last pass")


class _QuietLibraries(logging.Filter):
    """Library chatter (each HTTP request) only from WARNING up; our own lines always."""

    NOISY = ("httpx", "httpcore", "apscheduler", "uvicorn")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.name.startswith(self.NOISY)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (tests swap it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def configure_logging() -> None:
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(_QuietLibraries())
    root = logging.getLogger()
    if not any(isinstance(f, _QuietLibraries) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))


async def run_once(policies: Path, source: str) -> int:
    """One pass; returns the exit code (0 ok, 1 error, 3 blocked by a guard)."""
    from controller.runner import UserError, apply_plan, make_plan

    started = time.monotonic()
    try:
        with file_lock():
            made = await make_plan(policies, source, now=datetime.now(UTC))
            BLOCKED.set(sum(1 for i in made.plan.items if i.blocked))
            if not made.plan.has_changes:
                code = 3 if made.plan.has_blocked else 0
                log.info("pass: no changes, %d object(s) in sync", made.plan.summary.no_op)
            else:
                report = await apply_plan(
                    made.plan,
                    check_stale=False,
                    actual=made.actual,
                    settings=made.policies.settings,
                    lock=False,  # held for the whole pass
                )
                for result in report.results:
                    ITEMS.labels(result.item.kind, result.item.action, result.status).inc()
                    item = result.item
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
                code = report.exit_code()
                log.info(
                    "pass: applied %d item(s), %d failed", len(report.results), len(report.failed)
                )
    except LockBusy as exc:
        log.warning("pass skipped: %s", exc)
        PASSES.labels("skipped").inc()
        return 1
    except UserError as exc:
        log.error("pass failed: %s", exc)
        PASSES.labels("error").inc()
        return 1
    finally:
        DURATION.observe(time.monotonic() - started)
    PASSES.labels({0: "ok", 3: "blocked"}.get(code, "error")).inc()
    if code in (0, 3):
        LAST_SUCCESS.set(time.time())
    return code


class Reconciler:
    """The scheduled loop's state and its HTTP face: `/metrics`, `/healthz`, `/readyz`
    (ready once a first pass has completed, whatever its outcome: the outcome is a metric)."""

    def __init__(self, policies: Path, source: str) -> None:
        self.policies = policies
        self.source = source
        self.ready = False
        self.last_code: int | None = None

    async def tick(self) -> None:
        self.last_code = await run_once(self.policies, self.source)
        self.ready = True

    def app(self) -> Starlette:
        async def metrics(_: Request) -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        async def healthz(_: Request) -> Response:
            return PlainTextResponse("ok")

        async def readyz(_: Request) -> Response:
            if self.ready:
                return PlainTextResponse(f"ready (last pass exit code {self.last_code})")
            return PlainTextResponse("starting: the first pass has not completed", 503)

        return Starlette(
            routes=[
                Route("/metrics", metrics),
                Route("/healthz", healthz),
                Route("/readyz", readyz),
            ]
        )


def run_forever(policies: Path, source: str, *, host: str, port: int) -> None:
    import uvicorn
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from controller.pipeline import PipelineError, load_checked

    configure_logging()
    try:
        interval = parse_duration(load_checked(policies).policies.settings.schedule.interval)
    except PipelineError as exc:
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
