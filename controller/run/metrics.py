"""The reconciler's Prometheus metrics (names start with `octi_tanium_`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PASSES = Counter("octi_tanium_passes_total", "Reconcile passes", ["outcome"])
ITEMS = Counter("octi_tanium_items_total", "Plan items applied", ["kind", "action", "status"])
DURATION = Histogram("octi_tanium_pass_seconds", "Duration of a reconcile pass")
LAST_SUCCESS = Gauge("octi_tanium_last_success_timestamp", "Unix time of the last good pass")
BLOCKED = Gauge("octi_tanium_blocked_items", "Items withheld by a safety guard in the last pass")
STREAM_UP = Gauge(
    "octi_tanium_stream_up", "1 while the OpenCTI live stream is connected (0: scheduled only)"
)
STREAM_EVENTS = Counter(
    "octi_tanium_stream_events_total", "OpenCTI stream events received", ["topic"]
)
STREAM_PASSES = Counter("octi_tanium_stream_passes_total", "Passes triggered by stream events")
