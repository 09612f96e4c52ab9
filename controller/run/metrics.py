"""The reconciler's Prometheus metrics (names start with `octi_tanium_`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PASSES = Counter("octi_tanium_passes_total", "Reconcile passes", ["outcome"])
ITEMS = Counter("octi_tanium_items_total", "Plan items applied", ["kind", "action", "status"])
DURATION = Histogram("octi_tanium_pass_seconds", "Duration of a reconcile pass")
LAST_SUCCESS = Gauge("octi_tanium_last_success_timestamp", "Unix time of the last good pass")
BLOCKED = Gauge("octi_tanium_blocked_items", "Items withheld by a safety guard in the last pass")
