"""One run of the OpenCTI listing comparison (`bench.bench_opencti_fetch`), in a process of
its own: list every indicator of the emulator at `URL` with one contender, check the count,
print one JSON object (the listing's seconds, this process's RSS before and after it, MiB).
Imports only what its contender needs, so that each one's memory is its own.

    python -m bench.fetch_contender CONTENDER URL TOKEN COUNT PAGE_SIZE
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

CONTENDERS = ("octi-tanium", "pycti same fields", "pycti default")
ROOT = Path(__file__).resolve().parent.parent


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def same_fields() -> str:
    """The node selection of our indicators listing (the fragment's body), for pycti."""
    from controller.sources.opencti.queries import INDICATOR_FIELDS

    return INDICATOR_FIELDS[INDICATOR_FIELDS.index("{") + 1 : INDICATOR_FIELDS.rindex("}")]


def ours(url: str, token: str, page_size: int) -> tuple[float, float, int]:
    import asyncio
    from datetime import UTC, datetime

    from controller.policy.loader import load_policies
    from controller.sources.opencti import OpenCTISettings, fetch_snapshot

    policies = load_policies(ROOT / "desired" / "everything.yaml").policies
    settings = OpenCTISettings(url=url, token=token, timeout=120)
    before = rss_mib()
    started = time.perf_counter()
    snapshot = asyncio.run(
        fetch_snapshot(settings, policies, now=datetime.now(UTC), page_size=page_size)
    )
    elapsed = time.perf_counter() - started
    return elapsed, before, len(snapshot.objects) if snapshot.complete else -1


def pycti_listing(
    url: str, token: str, page_size: int, custom: str | None
) -> tuple[float, float, int]:
    import pycti

    client = pycti.OpenCTIApiClient(url, token, log_level="error", perform_health_check=False)
    before = rss_mib()
    started = time.perf_counter()
    listed = client.indicator.list(getAll=True, first=page_size, customAttributes=custom)
    return time.perf_counter() - started, before, len(listed)


def main(argv: list[str]) -> None:
    name, url, token, count, page_size = argv[0], argv[1], argv[2], int(argv[3]), int(argv[4])
    if name == "octi-tanium":
        elapsed, before, got = ours(url, token, page_size)
    elif name in CONTENDERS:
        custom = same_fields() if name == "pycti same fields" else None
        elapsed, before, got = pycti_listing(url, token, page_size, custom)
    else:
        raise SystemExit(f"unknown contender {name!r}: one of {', '.join(CONTENDERS)}")
    if got != count:
        raise SystemExit(f"{name}: inexact listing, {got} indicators (expected {count})")
    result: dict[str, Any] = {"seconds": elapsed, "baseline_mib": before, "rss_mib": rss_mib()}
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
