"""The reconciler's Prometheus metrics (names start with `octi_tanium_`), and what fills them
from one pass (`observe_plan`). The alerts to set on them: docs/deploy.md."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Counter, Gauge, Histogram, Info

from controller import __version__
from controller.core.plan import Plan
from controller.core.reasons import Reason
from controller.sources.opencti.incremental import FetchReport
from controller.sources.opencti.incremental import observe as observe_fetches

PASSES = Counter(
    "octi_tanium_passes_total",
    "Reconcile passes by outcome (ok, failed, blocked, deferred, standby, deposed, stopped)",
    ["outcome"],
)
ITEMS = Counter("octi_tanium_items_total", "Plan items applied", ["kind", "action", "status"])
DURATION = Histogram(
    "octi_tanium_pass_seconds",
    "Duration of a reconcile pass",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf")),
)
LAST_SUCCESS = Gauge(
    "octi_tanium_last_success_timestamp",
    "Unix time of the last successful pass: complete source, every write succeeded, nothing "
    "withheld",
)
CONSECUTIVE_FAILURES = Gauge(
    "octi_tanium_consecutive_failed_passes", "Failed passes since the last successful one"
)
BLOCKED = Gauge("octi_tanium_blocked_items", "Items withheld by a safety guard in the last pass")
GUARD_BLOCKS = Counter(
    "octi_tanium_guard_blocks_total", "Passes in which a safety guard failed", ["guard"]
)
OBJECTS = Gauge(
    "octi_tanium_objects",
    "Objects in the last pass: desired (from the source), owned and actual (in Tanium)",
    ["set"],
)
PLAN_ITEMS = Gauge("octi_tanium_plan_items", "Items of the last plan", ["kind", "action", "reason"])
DRIFT = Gauge("octi_tanium_drift_items", "Owned objects edited in Tanium (reason drift)")
SOURCE_COMPLETE = Gauge(
    "octi_tanium_source_complete", "1 when the last pass read the source completely, else 0"
)
REQUESTS = Counter(
    "octi_tanium_requests_total",
    "HTTP requests to Tanium and OpenCTI by endpoint and status",
    ["system", "endpoint", "status"],
)
RETRY_WAIT = Counter("octi_tanium_retry_wait_seconds_total", "Seconds spent waiting before retries")
LEADER = Gauge("octi_tanium_leader", "1 while this process holds the writer lease, else 0")
SOURCE_FETCHES = Counter(
    "octi_tanium_source_fetches_total",
    "OpenCTI fetches by kind: full, or incremental (only what changed since the last one)",
    ["kind"],
)
SOURCE_CHANGES = Counter(
    "octi_tanium_source_changes_total",
    "Objects an incremental OpenCTI fetch found changed or removed",
    ["change"],
)


def _on_fetch(report: FetchReport) -> None:
    SOURCE_FETCHES.labels(report.kind).inc()
    if report.kind == "incremental":
        SOURCE_CHANGES.labels("changed").inc(report.changed)
        SOURCE_CHANGES.labels("removed").inc(report.removed)


observe_fetches(_on_fetch)
BUILD = Info("octi_tanium_build", "The running octi-tanium")
BUILD.info({"version": __version__})


def observe_plan(plan: Plan, *, desired: int, owned: int, actual: int) -> None:
    """The last plan's gauges: sizes, items by kind/action/reason, drift, guards, blocks."""
    OBJECTS.labels("desired").set(desired)
    OBJECTS.labels("owned").set(owned)
    OBJECTS.labels("actual").set(actual)
    PLAN_ITEMS.clear()
    tally = Tally((i.kind, i.action, i.reason, i.blocked) for i in plan.items)  # one pass
    by_label = Tally[tuple[str, str, str]]()
    for (kind, action, reason, _), n in tally.items():
        by_label[kind, action, str(reason)] += n
    for labels, n in by_label.items():
        PLAN_ITEMS.labels(*labels).set(n)
    DRIFT.set(sum(n for (_, _, reason, _), n in tally.items() if reason == Reason.DRIFT))
    complete = next((g.ok for g in plan.guards if g.name == "complete"), True)
    SOURCE_COMPLETE.set(1 if complete else 0)
    for guard in plan.guards:
        if not guard.ok:
            GUARD_BLOCKS.labels(guard.name).inc()
    BLOCKED.set(sum(n for (_, _, _, blocked), n in tally.items() if blocked))


STREAM_UP = Gauge(
    "octi_tanium_stream_up", "1 while the OpenCTI live stream is connected (0: scheduled only)"
)
STREAM_EVENTS = Counter(
    "octi_tanium_stream_events_total", "OpenCTI stream events received", ["topic"]
)
STREAM_PASSES = Counter("octi_tanium_stream_passes_total", "Passes triggered by stream events")
