"""`run` as a service: the listen socket, the schedule of passes, signals, shutdown.

- The `--listen` socket is bound before anything else: a busy port is a one-line `UserError`
  (exit 1) before any pass.
- Passes: APScheduler runs one at start, then each one `schedule.interval` (+ jitter) after the
  previous one ended, re-read from the policies at every pass; never two at once. Passes the
  live stream asks for (`stream_hook`) take turns with them, and each one moves the next
  scheduled pass to an interval after it.
- SIGTERM / SIGINT: a pass that is writing finishes its write batch and stops before the next
  (`Leadership.before_batch`); one that is not writing yet is cancelled; the lease is given
  back; the process exits 0. uvicorn's own signal handling (it re-raises the signal, exit 143)
  is switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import time
from collections.abc import Generator
from datetime import UTC, datetime, timedelta

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from controller.errors import UserError
from controller.lease import lock_ttl
from controller.run import stream_hook
from controller.run.outcome import PassResult
from controller.run.scheduler import Reconciler
from controller.run.windows import next_delay

log = logging.getLogger("octi_tanium.reconciler")
JOB = "pass"


def bind_listen(host: str, port: int) -> socket.socket:
    """The `--listen` socket, bound now: a busy or forbidden address is a one-line error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        why = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise UserError(
            f"cannot listen on {host}:{port}: {why}; pick another with --listen HOST:PORT"
        ) from None
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (ours stop the passes first)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Service:
    """The scheduler of passes around a `Reconciler`, and its graceful stop."""

    def __init__(self, reconciler: Reconciler) -> None:
        self.reconciler = reconciler
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.current: asyncio.Task[PassResult] | asyncio.Task[None] | None = None
        self.stopped = asyncio.Event()
        self.turn = asyncio.Lock()
        """Scheduled and stream-triggered passes take turns: never two at once."""
        self.ended = float("-inf")
        """When (monotonic) the last pass ended."""

    async def one_pass(self) -> None:
        """The scheduled job: a pass, then the next one scheduled from the schedule it read
        (none when a stream-triggered pass ended while this one waited its turn: that pass
        has scheduled the next one already)."""
        await self._pass(scheduled=True)

    async def triggered(self) -> None:
        """A pass asked for by the live stream: now, or right after the pass in flight.
        Returns when it has ended, so the trigger knows whether a pass is in flight (events
        meanwhile make one more pass, not one each: `controller.run.trigger`)."""
        await self._pass(scheduled=False)

    async def _pass(self, *, scheduled: bool) -> None:
        asked = time.monotonic()
        async with self.turn:
            if self.stopped.is_set() or (scheduled and self.ended > asked):
                return
            self.current = asyncio.current_task()
            try:
                await self.reconciler.tick()
            finally:
                self.current = None
                self.ended = time.monotonic()
            if not self.stopped.is_set():
                self.schedule(datetime.now(UTC) + self.delay())

    def delay(self) -> timedelta:
        """Interval (+ jitter) from the schedule the last pass read; a standby replica tries
        again within a third of the lease TTL, so it takes over soon after a leader dies."""
        delay = next_delay(self.reconciler.schedule)
        last = self.reconciler.last
        if last is not None and last.outcome == "standby":
            delay = min(delay, timedelta(seconds=lock_ttl() / 3))
        return delay

    def schedule(self, when: datetime) -> None:
        self.scheduler.add_job(
            self.one_pass,
            "date",
            run_date=when,
            id=JOB,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )

    def stop(self, signum: int) -> None:
        """SIGTERM/SIGINT: stop writing after the batch in flight; cancel a pass that is not
        writing yet."""
        if self.stopped.is_set():
            return
        log.info("%s: stopping after the write batch in flight", signal.Signals(signum).name)
        self.stopped.set()
        self.reconciler.leadership.stop.set()
        if self.current is not None and not self.reconciler.leadership.writing:
            self.current.cancel()

    async def wait_for_pass(self) -> None:
        """Let a pass that is writing reach the end of its batch."""
        while self.current is not None:
            await asyncio.sleep(0.05)


async def serve(reconciler: Reconciler, sock: socket.socket) -> None:
    """Serve the HTTP face and run passes until SIGTERM/SIGINT; give the lease back."""
    service = Service(reconciler)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, service.stop, signum)
    config = uvicorn.Config(reconciler.app(), log_level="warning", lifespan="off")
    server = _Server(config)
    web = asyncio.create_task(server.serve(sockets=[sock]))
    service.scheduler.start()
    service.schedule(datetime.now(UTC))
    streams = stream_hook.start(service.triggered, reconciler.policies, reconciler.source)
    host, port = sock.getsockname()[:2]
    log.info("metrics, /healthz and /readyz on http://%s:%d", host, port)
    try:
        await service.stopped.wait()
        await service.wait_for_pass()
    finally:
        for task in streams:
            task.cancel()
        service.scheduler.shutdown(wait=False)
        server.should_exit = True
        await web
        reconciler.close()
        log.info("stopped; the lease is released")


async def once(reconciler: Reconciler) -> int:
    """`run --once` with the same signals: stop after the batch in flight, exit 0."""
    service = Service(reconciler)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, service.stop, signum)
    task = asyncio.create_task(reconciler.tick())
    service.current = task
    try:
        result = await task
        return result.exit_code
    except asyncio.CancelledError:
        return 0
    finally:
        reconciler.close()
