"""Issue 4 benchmark: fetch 100,000 indicators from the OpenCTI emulator over real HTTP.

The emulator (its own process on 127.0.0.1, so its CPU does not compete with the client's for
the GIL) is seeded in bulk with 100,000 STIX indicators (labels, markings, scores, every
field the controller reads) and adds 5 ms of latency to every request. The client runs
`fetch_snapshot` with the "everything" policy — the indicators listing plus an (empty)
observables listing — and every run is checked exact (100,000 objects, complete snapshot).
Wall time is the median of the timed runs; memory is tracemalloc's peak during one extra run
(Python allocations of the client) and the client process's peak RSS before that run
(`resource.getrusage`). Request counts come from
the emulator's `/__sandbox/state` counters.

Then, in the same run against the same emulator and data, the official client (issue 15):
`fetch_snapshot` against pycti listing the same fields (`indicator.list(getAll=True,
customAttributes=<the fields of our indicator fragment>)`) and pycti's default listing
(`indicator.list(getAll=True)`, its default attributes), at the same page size (500, pycti's
default and ours) and `--repeat` runs each, interleaved. Each run is a process of its own so
that its peak RSS is its own (`bench/measure.py`: forked from a small launcher, so the
benchmark's own memory is not counted); its wall time is the listing's (imports and client
set-up excluded), and every listing is checked exact (`--count` indicators).

    python -m bench.bench_opencti_fetch
    python -m bench.bench_opencti_fetch --quick                # 10,000 indicators, one run
    python -m bench.bench_opencti_fetch --count 200000 --page-size 2000 --latency-ms 20
    python -m bench.bench_opencti_fetch --no-pycti             # our fetch only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import resource
import socket
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from octi_sandbox.opencti import DEFAULT_TOKEN, OpenCTIConfig, create_app
from octi_sandbox.server import serve

from bench.fetch_contender import CONTENDERS
from bench.measure import run_measured
from controller.core.model import SourceSnapshot
from controller.policy.loader import load_policies
from controller.policy.located import PolicySet
from controller.sources.opencti import OpenCTISettings, fetch_snapshot

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
LABELS: tuple[list[str], ...] = (["emotet", "tanium"], ["qakbot"], ["ransomware", "tanium"], [])


def indicators(count: int) -> list[dict[str, Any]]:
    """`count` STIX indicators shaped like an OpenCTI export (deterministic)."""
    out = []
    for i in range(count):
        a, b, c = i // 65536 % 256, i // 256 % 256, i % 256
        stamp = f"2026-{1 + i % 10:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00.000Z"
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{i:08x}-0000-4000-8000-{i * 7919 % 10**12:012d}",
            "created": stamp,
            "modified": stamp,
            "name": f"C2 node 10.{a}.{b}.{c}",
            "description": "Command-and-control node (benchmark data)",
            "pattern": f"[ipv4-addr:value = '10.{a}.{b}.{c}']",
            "pattern_type": "stix",
            "valid_from": stamp,
            "valid_until": "2027-12-31T00:00:00.000Z",
            "revoked": i % 50 == 0,
            "confidence": 75,
            "labels": LABELS[i % 4],
            "object_marking_refs": [GREEN],
            "x_opencti_score": i % 101,
            "x_opencti_detection": i % 7 != 0,
            "x_opencti_main_observable_type": "IPv4-Addr",
            "x_mitre_platforms": ["windows"],
        }
        out.append(obj)
    return out


def _serve(port: int, count: int, latency_ms: float, ready: Any) -> None:
    app = create_app(OpenCTIConfig(latency_ms=latency_ms))
    started = time.perf_counter()
    app.state.opencti.seed(indicators(count))
    gc.freeze()  # the seeded knowledge base is static: keep the collector off it
    ready.put(time.perf_counter() - started)
    serve(app, "127.0.0.1", port, log_level="warning")


@contextlib.contextmanager
def emulator_process(count: int, latency_ms: float) -> Iterator[tuple[str, float]]:
    """The seeded emulator in a child process; yields (base URL, seconds spent seeding)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_serve, args=(port, count, latency_ms, ready))
    process.start()
    url = f"http://127.0.0.1:{port}"
    try:
        seeded = ready.get(timeout=600)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/health", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if not process.is_alive() or time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start") from None
                time.sleep(0.05)
        yield url, seeded
    finally:
        process.terminate()
        process.join(timeout=10)


def _requests(url: str) -> int:
    return int(httpx.get(url + "/__sandbox/state", timeout=30).json()["requests"]["total"])


class _Result:
    """Wraps the snapshot so `asyncio.run` cannot repr it: on CPython 3.11, leaving
    `asyncio.run` formats the main task (result included) while checking the SIGINT handler —
    the full repr of 100,000 pydantic objects, ~4 s that are not the fetch's."""

    def __init__(self, snapshot: SourceSnapshot) -> None:
        self.snapshot = snapshot

    def __repr__(self) -> str:
        return f"<snapshot of {len(self.snapshot.objects)} objects>"


async def _fetch_quietly(url: str, policies: PolicySet, page_size: int) -> _Result:
    settings = OpenCTISettings(url=url, token=DEFAULT_TOKEN, timeout=120)
    return _Result(await fetch_snapshot(settings, policies, now=NOW, page_size=page_size))


def _fetch(url: str, policies: PolicySet, page_size: int) -> tuple[float, SourceSnapshot]:
    started = time.perf_counter()
    result = asyncio.run(_fetch_quietly(url, policies, page_size))
    return time.perf_counter() - started, result.snapshot


def measure(
    url: str, policies: PolicySet, *, count: int, page_size: int, repeat: int
) -> dict[str, Any]:
    times: list[float] = []
    requests = 0
    for _ in range(repeat):
        before = _requests(url)
        elapsed, snapshot = _fetch(url, policies, page_size)
        requests = _requests(url) - before
        if not snapshot.complete or len(snapshot.objects) != count:
            raise SystemExit(
                f"inexact fetch: {len(snapshot.objects)} objects (expected {count}), "
                f"incomplete: {snapshot.incomplete_reasons}"
            )
        times.append(elapsed)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before tracemalloc's own
    tracemalloc.start()
    _fetch(url, policies, page_size)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "page_size": page_size,
        "best": min(times),
        "median": statistics.median(times),
        "requests": requests,
        "peak_mib": peak / 2**20,
        "rss_mib": rss,
    }


# --------------------------------------------------------------------------- pycti, same run

PAGE = 500
"""The page size of the comparison: pycti's default `first` and ours (`OPENCTI_PAGE_SIZE`)."""


def compare_with_pycti(url: str, count: int, repeat: int) -> list[dict[str, Any]]:
    """Every contender `repeat` times, interleaved, each run in a process of its own."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
    for _ in range(repeat):
        for name in CONTENDERS:
            with tempfile.TemporaryFile() as out:
                command = [sys.executable, "-m", "bench.fetch_contender", name, url,
                           DEFAULT_TOKEN, str(count), str(PAGE)]  # fmt: skip
                done = run_measured(command, cwd=ROOT, stdout=out, stderr=out)
                out.seek(0)
                text = out.read().decode(errors="replace")
            if done.exit_code != 0:
                raise SystemExit(f"{name} failed:\n{text[-3000:]}")
            runs[name].append(json.loads(text.strip().splitlines()[-1]) | {"rss_mib": done.rss_mib})
    return [
        {
            "name": name,
            "best": min(r["seconds"] for r in got),
            "median": statistics.median(r["seconds"] for r in got),
            "rss_mib": max(r["rss_mib"] for r in got),
            "baseline_mib": max(r["baseline_mib"] for r in got),
        }
        for name, got in runs.items()
    ]


def print_comparison(rows: list[dict[str, Any]], count: int, repeat: int) -> None:
    print(
        f"\nSame emulator, same {count:,} indicators, page size {PAGE}, {repeat} run(s) each "
        "(interleaved, one process per run; time = the listing alone)"
    )
    print(f"{'contender':<18} {'best s':>7} {'median s':>9} {'peak RSS MiB':>13} "
          f"{'RSS before MiB':>15}")  # fmt: skip
    for row in rows:
        print(f"{row['name']:<18} {row['best']:>7.2f} {row['median']:>9.2f} "
              f"{row['rss_mib']:>13.0f} {row['baseline_mib']:>15.0f}")  # fmt: skip
    ours, same, default = rows
    print(
        f"octi-tanium vs pycti same fields: {same['best'] / ours['best']:.2f}x best-of-{repeat} "
        f"({same['median'] / ours['median']:.2f}x medians; target >= 1.0x); vs pycti default: "
        f"{default['best'] / ours['best']:.2f}x ({default['median'] / ours['median']:.2f}x; "
        "target >= 2.0x) — >1 means ours is faster"
    )
    print(
        "  (ours also lists observables and markings for the 'everything' policy and builds "
        "the snapshot; pycti lists indicators only)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100_000, help="indicators in the emulator")
    parser.add_argument("--latency-ms", type=float, default=5.0, help="added per request")
    parser.add_argument(
        "--page-size",
        type=int,
        action="append",
        dest="page_sizes",
        help="listing page size (repeatable; default: 500 and 5000)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10,000 indicators, one run")
    parser.add_argument("--no-pycti", action="store_true", help="skip the pycti comparison")
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.repeat = 10_000, 1
    page_sizes = args.page_sizes or [500, 5000]
    policies = load_policies(ROOT / "desired" / "everything.yaml").policies

    try:
        import pycti  # noqa: F401  (the dev extra)

        with_pycti = not args.no_pycti
    except ImportError:
        with_pycti = False
        print("pycti is not installed (the dev extra): no comparison")
    with emulator_process(args.count, args.latency_ms) as (url, seeded):
        rows = [
            measure(url, policies, count=args.count, page_size=size, repeat=args.repeat)
            for size in page_sizes
        ]
        compared = compare_with_pycti(url, args.count, args.repeat) if with_pycti else []

    print(
        f"OpenCTI fetch: {args.count:,} indicators, {args.latency_ms:g} ms latency per "
        f"request, 'everything' policy; emulator seeded in bulk in {seeded:.1f}s"
    )
    print(
        f"{'page size':>9} {'best s':>7} {'median s':>9} {'requests':>9} {'objects/s':>10} "
        f"{'traced MiB':>10} {'RSS MiB':>8}"
    )
    for row in rows:
        print(
            f"{row['page_size']:>9} {row['best']:>7.2f} {row['median']:>9.2f} "
            f"{row['requests']:>9} {args.count / row['median']:>10,.0f} "
            f"{row['peak_mib']:>10.1f} {row['rss_mib']:>8.0f}"
        )
    print(
        f"every run exact ({args.count:,} objects, complete); traced = tracemalloc peak of one "
        "fetch; RSS = the client process's peak so far (ru_maxrss)"
    )
    if compared:
        print_comparison(compared, args.count, args.repeat)


if __name__ == "__main__":
    main()
