"""Drives a pass with the real clients: make a plan, apply a plan. Maps every failure the user
must act on to one `UserError` with a message that says what to do next."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from controller.apply import ApplyReport, Executor, FatalApplyError, StalePlanError, check_not_stale
from controller.core.model import ActualState
from controller.core.plan import Plan
from controller.lock import LockBusy, file_lock
from controller.pipeline import (
    PipelineError,
    PlanRun,
    SourceSpec,
    fetch_source,
    load_checked,
    plan_from,
)
from controller.policy.models import SettingsSpec
from controller.sources.bundle import BundleError


class UserError(Exception):
    """Stops the command with exit code 1 and this message."""


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    from controller.tanium.errors import AuthError, TaniumError
    from controller.tanium.settings import TaniumSettingsError

    try:
        yield
    except (PipelineError, BundleError, TaniumSettingsError, StalePlanError, LockBusy) as exc:
        raise UserError(str(exc)) from exc
    except AuthError as exc:
        raise UserError(f"Tanium refused the credentials: {exc}") from exc
    except FatalApplyError as exc:
        raise UserError(f"apply stopped: {exc}") from exc
    except TaniumError as exc:
        raise UserError(f"Tanium: {exc}") from exc
    except Exception as exc:
        mapped = _opencti_error(exc)
        if mapped is None:
            raise
        raise UserError(mapped) from exc


def _opencti_error(exc: Exception) -> str | None:
    try:
        from controller.sources import opencti
    except ImportError:
        return None
    for name in ("OpenCTISettingsError", "OpenCTIAuthError", "OpenCTIError"):
        cls = getattr(opencti, name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return f"OpenCTI: {exc}"
    return None


def tanium_client() -> Any:
    from controller.tanium import TaniumClient
    from controller.tanium.settings import TaniumSettings

    return TaniumClient.from_settings(TaniumSettings.from_env())


def _is_fatal(exc: BaseException) -> bool:
    """A 401 stops the apply (no call can succeed with that token); a 403 fails only the items
    whose route the token's user may not use — the rest (and the deploy) still happen."""
    from controller.tanium.errors import AuthError

    return isinstance(exc, AuthError) and exc.status != 403


def progress_bar(stream_is_tty: bool | None = None) -> Progress:
    tty = sys.stderr.isatty() if stream_is_tty is None else stream_is_tty
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not tty,
        transient=True,
    )


@contextlib.contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner on stderr while a long step runs (only on a terminal)."""
    if not sys.stderr.isatty():
        yield
        return
    with Console(stderr=True).status(message):
        yield


async def make_plan(policies_dir: Path, source: str, *, now: datetime) -> PlanRun:
    with user_errors():
        spec = SourceSpec.parse(source)
        loaded = load_checked(policies_dir)
        policies = loaded.policies
        with progress_bar() as bar:
            tasks: dict[str, Any] = {}

            def report(label: str, done: int, total: int | None) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total)
                bar.update(tasks[label], completed=done, total=total)

            snapshot = await fetch_source(spec, policies, now=now, progress=report)
        with status("Reading Tanium…"):
            async with tanium_client() as client:
                actual = await client.read_state(policies.settings.source)
        with status(
            f"Planning {len(snapshot.objects):,} objects against {len(actual.intel):,} documents…"
        ):
            desired, plan = plan_from(policies, snapshot, actual, now=now, source=str(spec))
        return PlanRun(policies, snapshot, actual, desired, plan)


async def apply_plan(
    plan: Plan,
    *,
    check_stale: bool,
    actual: ActualState | None = None,
    settings: SettingsSpec | None = None,
    lock: bool = True,
) -> ApplyReport:
    with user_errors(), file_lock() if lock else contextlib.nullcontext():
        async with tanium_client() as client:
            if actual is None or check_stale:
                actual = await client.read_state(plan.inputs.source_name)
            if check_stale:
                check_not_stale(plan, actual)
            total = sum(1 for i in plan.items if i.action != "no-op")
            with progress_bar() as bar:
                task = bar.add_task("Applying", total=total)
                executor = Executor(
                    client,
                    actual,
                    concurrency=settings.concurrency if settings else 8,
                    progress=lambda n: bar.advance(task, n),
                    is_fatal=_is_fatal,
                    settings=settings,
                )
                return await executor.run(plan)


def saved_plan_settings(policies_dir: Path) -> SettingsSpec | None:
    """The Settings in force, to re-check a saved plan's deletion budget at apply time."""
    if not policies_dir.exists():
        return None
    loaded = load_checked(policies_dir)
    return loaded.policies.settings
