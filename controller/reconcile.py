"""The one driver: `reconcile(mode="plan"|"apply")` → `Outcome`, used by the command line
(`plan`, `apply`), the scheduler (`run`) and, through the command line, the demo.

policies → source → Tanium → the pure stage (desired, diff, plan) → [apply]. `plan` is this
pass stopped before the last stage: there is no dry-run flag in the executor. The driver
prints nothing: it reports progress through a `Progress` (the command line renders it) and
raises only `controller.errors` errors, each saying what to do next.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from controller.apply import ApplyReport, Executor, check_not_stale
from controller.apply.executor import Fence
from controller.collector import paused
from controller.connection import require_connections
from controller.core.desired import DesiredState, build_desired
from controller.core.desired_memo import DesiredMemo
from controller.core.diff import make_plan
from controller.core.diff.changes import needs_body
from controller.core.diff.memo import PlanMemo
from controller.core.foreign import UnownedMemo, unowned_objects
from controller.core.model import ActualState, SourceSnapshot, TaniumId
from controller.core.plan import Inputs, Plan
from controller.core.unused import with_policy_warnings
from controller.errors import PipelineError
from controller.policy.loader import LoadResult
from controller.policy.located import PolicySet
from controller.policy.models import SettingsSpec
from controller.policy.validate import validate
from controller.render.marker import ListingKeys
from controller.render.terms import describe
from controller.retry import Timing
from controller.sources.bundle_apart import read_bundle_apart
from controller.tanium.bodies import describe_content_changes
from controller.tanium.client import TaniumClient
from controller.tanium.journal import Journal
from controller.tanium.pagination import PageMemo
from controller.tanium.snapshot import Snapshot
from controller.tanium.terms import cached_terms, tenant_terms
from controller.target import ActualSpec, check_target, live_url, read_actual, with_target
from controller.writeback.pivot import pivot_after_apply, pivot_after_saved_apply, with_pivot

__all__ = [
    "Counter",
    "Mode",
    "Outcome",
    "PassMemory",
    "PipelineError",
    "Progress",
    "Quiet",
    "SourceSpec",
    "reconcile",
]

Mode = Literal["plan", "apply"]
APPLYING = "Applying (changes, blocked items, labels, deploys, scans)"
"""The apply progress counts every item the executor reports, not the summary's counts."""
READING_TANIUM = "Reading Tanium"
"""A counted step without a count (0 of unknown, then 1 of 1): it runs beside the OpenCTI
listing's counters."""
Counter = Callable[[str, int, int | None], None]
"""`(label, done, total)`: how far a counted step is (total None: not known yet)."""
A = TypeVar("A")
B = TypeVar("B")
log = logging.getLogger("octi_tanium.reconciler")
"""What `run`'s passes reused (`PassMemory`), one line per stage."""


class Progress(Protocol):
    """How the driver reports progress; the command line renders it (spinners, bars)."""

    def status(self, message: str) -> AbstractContextManager[None]:
        """A long step without a count is running (e.g. "Reading Tanium…")."""
        ...

    def counters(self) -> AbstractContextManager[Counter]:
        """Counted steps (pages read, items applied) report through the yielded callback."""
        ...


class Quiet:
    """Reports nothing: the scheduler's and the tests' progress."""

    def status(self, message: str) -> AbstractContextManager[None]:
        return nullcontext()

    @contextlib.contextmanager
    def counters(self) -> Iterator[Counter]:
        yield lambda label, done, total: None


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    path: Path | None = None

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        if text == "opencti":
            return cls("opencti")
        if text.startswith("bundle:") and len(text) > len("bundle:"):
            return cls("bundle", Path(text[len("bundle:") :]))
        raise PipelineError(
            f"unknown source {text!r}: use `opencti` or `bundle:PATH` (a STIX 2.1 bundle file)"
        )

    def __str__(self) -> str:
        return "opencti" if self.kind == "opencti" else f"bundle:{self.path}"


@dataclass
class PassMemory:
    """What `run` keeps from one pass to the next, so that a pass redoes only the work of what
    changed (docs/realtime.md, "Passes that redo only what changed"). Each part gives exactly
    what the full computation gives — they only skip work — and each is checked against it by
    a property test. `plan` and `apply` keep nothing: every pass is a first one.

    - `pages`: the Tanium listings' pages, reused when their bytes come back unchanged;
    - `desired`: the desired state, rebuilt only for the keys that changed objects touch;
    - `plan`: the plan, joined again only for the keys whose inputs moved;
    - `unowned`: what in Tanium is not ours, judged again only for objects that changed.

    The OpenCTI snapshot and the write journal are kept by their own modules (each read
    again only when it changed); these hold nothing the next pass could not check."""

    pages: PageMemo = field(default_factory=PageMemo)
    desired: DesiredMemo = field(default_factory=DesiredMemo)
    plan: PlanMemo = field(default_factory=PlanMemo)
    unowned: UnownedMemo = field(default_factory=UnownedMemo)


@dataclass(frozen=True)
class Outcome:
    """What a pass did: the plan, and in apply mode the report (None when nothing was
    applied: no changes, or the pass was a plan)."""

    mode: Mode
    plan: Plan
    report: ApplyReport | None = None
    actual: ActualState | None = None
    policies: PolicySet | None = None
    desired: DesiredState | None = None
    snapshot: SourceSnapshot | None = None

    def __repr__(self) -> str:  # every field has a bounded repr of its own; the policies too
        return f"Outcome({self.mode}, {self.plan!r}, report={self.report!r})"

    @property
    def exit_code(self) -> int:
        """The detailed exit code: plan 0 / 2 changes / 3 blocked; apply 0 / 1 an item
        failed / 3 blocked by a guard."""
        if self.mode == "plan":
            return self.plan.exit_code()
        if self.report is not None:
            return self.report.exit_code()
        return 3 if self.plan.has_blocked else 0


# ---------------------------------------------------------------------------- stages


def load_checked(policies_dir: Path) -> LoadResult:
    result = validate(policies_dir)
    if not result.ok:
        errors = [d for d in result.diagnostics if d.severity == "error"]
        body = "\n".join(d.text() for d in errors)
        raise PipelineError(
            f"{len(errors)} policy error(s) — fix them (see `octi-tanium validate`):\n{body}"
        )
    return result


def saved_plan_settings(policies_dir: Path) -> SettingsSpec | None:
    """The Settings in force, to re-check a saved plan's deletion budget at apply time."""
    if not policies_dir.exists():
        return None
    return load_checked(policies_dir).policies.settings


def tanium_client(timing: Timing | None = None) -> TaniumClient:
    """The Tanium client of the environment (`TANIUM_*`)."""
    from controller.tanium.settings import TaniumSettings

    settings = TaniumSettings.from_env()
    if timing is None:
        return TaniumClient.from_settings(settings)
    return TaniumClient.from_settings(
        settings,
        sleep=timing.sleep,
        clock=timing.clock,
        wall_clock=timing.wall_clock,
        rng=timing.rng,
    )


async def fetch_source(
    spec: SourceSpec,
    policies: PolicySet,
    *,
    now: datetime,
    progress: Counter | None = None,
    timing: Timing | None = None,
    incremental: bool = False,
) -> SourceSnapshot:
    """`incremental`: the default of `OCTI_TANIUM_INCREMENTAL` (on for `run`)."""
    if spec.kind == "bundle":
        assert spec.path is not None
        # in a forked child (a large bundle) or a thread: it overlaps the Tanium read (`both`)
        return await read_bundle_apart(spec.path, now=now)
    from controller.sources.opencti import OpenCTISettings, fetch_snapshot
    from controller.sources.opencti.incremental import IncrementalSettings, fetch_incremental

    settings = OpenCTISettings.from_env()
    options = IncrementalSettings.from_env(default=incremental)
    if options.enabled:  # the same snapshot, read incrementally (docs/realtime.md)
        return await fetch_incremental(
            settings,
            policies,
            now=now,
            page_size=settings.page_size,
            progress=progress,
            timing=timing,
            options=options,
        )
    return await fetch_snapshot(
        settings,
        policies,
        now=now,
        page_size=settings.page_size,
        progress=progress,
        timing=timing,
    )


def plan_from(
    policies: PolicySet,
    snapshot: SourceSnapshot,
    actual: ActualState,
    *,
    now: datetime,
    source: str,
    stored: Mapping[TaniumId, tuple[str, str]] | None = None,
    terms: Mapping[str, str] | None = None,
    learned: MutableMapping[TaniumId, tuple[str, str]] | None = None,
    memory: PassMemory | None = None,
    keys: ListingKeys | None = None,
) -> tuple[DesiredState, Plan]:
    """The pure stage: desired state, diff, plan (the cyclic GC paused: `controller.collector`).
    `stored` / `learned`: the write journal, and what it should learn (see `make_plan`).
    `memory`: the previous passes' desired state and plan, of which only what changed is
    computed again (the same state and plan as `build_desired`'s and `make_plan`'s).
    `keys`: where a pass without memory keeps the ownership keys its diff finds (for
    `unowned_objects`)."""
    with paused():
        if memory is None:
            desired = build_desired(policies, snapshot, now=now, terms=terms)
        else:
            desired = memory.desired.build(policies, snapshot, now=now, terms=terms)
            log.info("desired state: %s", memory.desired.last.text())
        inputs = Inputs(
            openioc_terms=describe(terms or {}),
            policy_revision=policies.revision,
            query_hash=snapshot.query_hash or hashlib.sha256(source.encode()).hexdigest()[:16],
            snapshot_time=snapshot.snapshot_time,
            source=source,
        )
        make = partial(make_plan, keys=keys) if memory is None else memory.plan.make
        plan = make(
            desired,
            actual,
            settings=policies.settings,
            complete=snapshot.complete,
            incomplete_reasons=snapshot.incomplete_reasons,
            inputs=inputs,
            now=now,
            stored=stored,
            learned=learned,
        )
        if memory is not None:
            stats = memory.plan.stats
            joined = f"{stats.recomputed:,} of {stats.keys:,} keys joined"
            log.info("plan: %s", f"full ({stats.reason}): {joined}" if stats.reason else joined)
        return desired, plan


_TaniumRead = tuple[ActualState, Snapshot | None, str, Journal, dict[str, str]]
"""Tanium's inventory, the snapshot it came from (if any), its URL, journal and terms."""


async def both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Run two reads at once and return both results. When either fails, the other is still
    awaited and the first one's error is raised (else the second's): the same error the two
    run one after the other would raise, whichever finished first."""
    results = await asyncio.gather(first, second, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results[0], results[1]  # type: ignore[return-value]


async def _tenant_terms(spec: ActualSpec, url: str, timing: Timing | None) -> dict[str, str]:
    """The tenant's OpenIOC terms: learned from its quick-add when Tanium is live, else the
    ones learned earlier (a plan against a snapshot asks nothing)."""
    if spec.path is not None:
        return cached_terms(url)
    async with tanium_client(timing) as client:
        return await tenant_terms(client, url)


def _kept(memory: PassMemory | None, incremental: bool) -> PassMemory | None:
    """The memory a pass may use: none when `OCTI_TANIUM_INCREMENTAL` turns incremental passes
    off (every pass then a full one, as `plan`'s)."""
    from controller.sources.opencti.incremental import IncrementalSettings

    if memory is None or not IncrementalSettings.from_env(default=incremental).enabled:
        return None
    return memory


# ---------------------------------------------------------------------------- the driver


async def reconcile(
    policies_dir: Path,
    source: str = "opencti",
    *,
    mode: Mode,
    now: datetime,
    saved: Plan | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    approve: Callable[[Plan], None] | None = None,
    lock: Callable[[], AbstractContextManager[None]] | None = None,
    progress: Progress | None = None,
    timing: Timing | None = None,
    fence: Fence | None = None,
    actual_from: str = "tanium",
    incremental: bool = False,
    memory: PassMemory | None = None,
) -> Outcome:
    """One pass. `mode="plan"` stops before the executor; `mode="apply"` continues into it.

    `saved`: apply this saved plan (re-checked against a fresh read of Tanium, refused when
    stale) instead of planning now. `on_plan` sees the plan as soon as it is made;
    `approve` is asked before anything is written and raises a `UserError` to refuse.
    `lock` is held around the writes (the scheduler holds its own around the whole pass).
    `timing` is the clients' retry timing (tests inject one that never sleeps).
    `fence` may stop the apply between writes (the lease's fencing check, a graceful stop).
    `actual_from`: `tanium` (read live) or `snapshot:FILE` (plan mode only: see
    `controller.target`). `incremental`: read OpenCTI incrementally unless
    `OCTI_TANIUM_INCREMENTAL=off` (`run`; else only when it is `on`). `memory`: what the
    previous passes of this process left to reuse (`PassMemory`; `run` keeps one).
    """
    shown = progress or Quiet()
    if saved is not None:
        if mode != "apply":
            raise PipelineError("a saved plan is only ever applied")
        settings = saved_plan_settings(policies_dir)
        report = await _apply(saved, None, settings, lock, shown, timing, fence)
        await pivot_after_saved_apply(policies_dir, SourceSpec.parse(source), now, timing)
        return Outcome("apply", saved, report)
    spec = SourceSpec.parse(source)
    actual_spec = ActualSpec.parse(actual_from)
    if actual_spec.path is not None and mode != "plan":
        raise PipelineError(
            "a plan made against a snapshot is only ever saved (`plan --out`) and applied "
            "after the stale check; `apply` reads Tanium itself"
        )
    checked = load_checked(policies_dir)
    policies = checked.policies
    if actual_spec.path is None:
        require_connections(opencti=spec.kind == "opencti")
    memory = _kept(memory, incremental)

    async def read_tanium(counter: Counter) -> _TaniumRead:
        counter(READING_TANIUM, 0, None)
        actual, taken, url = await read_actual(
            actual_spec,
            policies.settings.source,
            lambda: tanium_client(timing),
            adopt=policies.settings.adopt.from_sources,
            pages=memory.pages if memory is not None else None,
        )
        journal = Journal.load(url, policies.settings.source)
        terms = await _tenant_terms(actual_spec, url, timing)
        counter(READING_TANIUM, 1, 1)
        return actual, taken, url, journal, terms

    # both reads at once (a pass waits for the slower one), the collector paused throughout
    with shown.counters() as counter, paused():
        snapshot, (actual, taken, url, journal, terms) = await both(
            fetch_source(
                spec, policies, now=now, progress=counter, timing=timing, incremental=incremental
            ),
            read_tanium(counter),
        )
    learned: dict[TaniumId, tuple[str, str]] = {}
    keys = ListingKeys()  # found by the diff, used again for the unowned objects
    with shown.status(
        f"Planning {len(snapshot.objects):,} objects against {len(actual.intel):,} documents…"
    ):
        desired, plan = plan_from(
            policies,
            snapshot,
            actual,
            now=now,
            source=str(spec),
            stored=journal.entries,
            terms=terms,
            learned=learned,
            memory=memory,
            keys=keys,
        )
    if actual_spec.path is None:  # a snapshot's plan records nothing (see the journal)
        Journal.learn(url, policies.settings.source, learned, actual)
    foreign = unowned_objects(actual, keys) if memory is None else memory.unowned(actual)
    plan = replace(with_target(plan, url, taken), unowned_objects=foreign)
    warnings = [d for d in checked.diagnostics if d.severity != "error"]
    plan = with_policy_warnings(plan, warnings, policies, snapshot, now=now)
    if actual_spec.path is None and any(needs_body(i) for i in plan.items if i.action == "update"):
        with shown.status("Reading the changed documents…"):
            async with tanium_client(timing) as client:
                plan = await describe_content_changes(plan, client)
    if actual_spec.path is None:
        plan = await with_pivot(plan, spec.kind, desired, actual, policies, live_url(), timing)
    made = Outcome(mode, plan, None, actual, policies, desired, snapshot)
    if on_plan is not None:
        on_plan(plan)
    if mode == "plan" or not plan.has_changes:
        return made
    if approve is not None:
        approve(plan)
    report = await _apply(plan, actual, policies.settings, lock, shown, timing, fence)
    guarded = not all(g.ok for g in plan.guards)
    await pivot_after_apply(spec.kind, desired, policies, timing, guarded=guarded)
    return Outcome("apply", plan, report, actual, policies, desired, snapshot)


async def _apply(
    plan: Plan,
    actual: ActualState | None,
    settings: SettingsSpec | None,
    lock: Callable[[], AbstractContextManager[None]] | None,
    progress: Progress,
    timing: Timing | None,
    fence: Fence | None,
) -> ApplyReport:
    """The last stage. Without `actual` (a saved plan) Tanium is read again and the plan
    refused when the inventory moved since it was made."""
    with lock() if lock is not None else nullcontext():
        async with tanium_client(timing) as client:
            if actual is None:
                managed = settings.source if settings is not None else plan.inputs.source_name
                check_target(plan, live_url(), managed)
                adopt = settings.adopt.from_sources if settings else ()
                actual = await client.read_state(plan.inputs.source_name, adopt)
                check_not_stale(plan, actual)
            # every item the executor reports: changes, blocked ones, labels, deploys, scans
            total = sum(1 for i in plan.items if i.action != "no-op")
            with progress.counters() as counter:
                done = 0

                def advance(n: int) -> None:
                    nonlocal done
                    done += n
                    counter(APPLYING, done, total)

                counter(APPLYING, 0, total)
                executor = Executor(
                    client,
                    actual,
                    concurrency=settings.concurrency if settings else 8,
                    progress=advance,
                    settings=settings,
                    fence=fence,
                )
                try:
                    return await executor.run(plan)
                finally:
                    Journal.update(client.url, plan.inputs.source_name, executor, actual)
