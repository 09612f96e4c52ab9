"""Issue 2 benchmark: read the whole Tanium actual state with the client, over real HTTP.

The Tanium emulator (its own process, on 127.0.0.1, so its CPU does not compete with the
client's for the GIL) holds 20,000 intel documents in the managed source (plus 500 in a foreign
source) and 20,000 Reputation entries; every request gets 5 ms of added latency.
`read_state` lists the three inventories concurrently (8 requests in flight); the same read
with one request in flight is shown for comparison. Request counts come from the emulator's
`/__sandbox/state` counters.

Each row also shows the CPU the read took in the client (`time.process_time`) and in the
emulator (`/proc/<pid>/stat`): when their sum is near the wall time, the read is CPU-bound and
more requests in flight cannot make it faster. RSS: the client's peak so far (`ru_maxrss`).

    python -m bench.bench_tanium_read
    python -m bench.bench_tanium_read --quick          # 5,000 each, one run
    python -m bench.bench_tanium_read --count 100000 --entries 25000   # a 100,000 pass's read
    python -m bench.bench_tanium_read --count 50000 --latency-ms 20 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import resource
import socket
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
from octi_sandbox.server import serve
from octi_sandbox.tanium import DEFAULT_TOKEN, TaniumConfig, create_app

from controller.core.model import ActualState
from controller.tanium import TaniumClient

SOURCE = "OpenCTI (octi-tanium)"


def _serve(port: int) -> None:
    serve(create_app(TaniumConfig()), "127.0.0.1", port, log_level="warning")


_PID: list[int] = []
"""The emulator's process id (for its CPU time)."""


def _cpu_of(pid: int) -> float:
    """A process's user + system CPU seconds so far (Linux `/proc`; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def emulator_process() -> Iterator[str]:
    """The Tanium emulator served by uvicorn in a child process; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,))
    process.start()
    _PID[:] = [process.pid or 0]
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/__sandbox/faults", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if not process.is_alive() or time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.join(timeout=10)


def _requests(sandbox: httpx.Client) -> int:
    counters = sandbox.get("/state", params={"contents": "false"}).json()["counters"]
    return int(sum(counters["requests"].values()))


async def _read(url: str, page_size: int, in_flight: int) -> tuple[float, ActualState]:
    async with TaniumClient(url, DEFAULT_TOKEN, page_size=page_size,
                            max_in_flight=in_flight) as client:  # fmt: skip
        started = time.perf_counter()
        state = await client.read_state(SOURCE)
        return time.perf_counter() - started, state


def measure(url: str, sandbox: httpx.Client, *, count: int, entries: int, page_size: int,
            in_flight: int, repeat: int) -> dict[str, Any]:  # fmt: skip
    times, client, server, requests = [], [], [], 0
    for _ in range(repeat):
        before = _requests(sandbox)
        cpu, emulator = time.process_time(), _cpu_of(_PID[0])
        elapsed, state = asyncio.run(_read(url, page_size, in_flight))
        client.append(time.process_time() - cpu)
        server.append(_cpu_of(_PID[0]) - emulator)
        requests = _requests(sandbox) - before
        if len(state.intel) != count or len(state.blocklist) != entries:
            raise SystemExit(f"inexact read: {len(state.intel)} intel, "
                             f"{len(state.blocklist)} entries (expected {count}, "
                             f"{entries})")  # fmt: skip
        times.append(elapsed)
        del state
    return {"in_flight": in_flight, "best": min(times), "median": statistics.median(times),
            "requests": requests, "client": statistics.median(client),
            "server": statistics.median(server),
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=20_000, help="intel documents")
    parser.add_argument("--entries", type=int, default=None,
                        help="Reputation entries (default: --count)")  # fmt: skip
    parser.add_argument("--latency-ms", type=float, default=5.0, help="added per request")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="5,000 each, one run")
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.repeat = 5_000, 1
    if args.entries is None:
        args.entries = args.count

    with (
        emulator_process() as url,
        httpx.Client(base_url=url + "/__sandbox", timeout=120) as sandbox,
    ):
        seeded = time.perf_counter()
        sandbox.post(
            "/seed",
            json={
                "intel": {"count": args.count, "sourceName": SOURCE},
                "reputation": {"count": args.entries},
            },
        ).raise_for_status()
        sandbox.post(
            "/seed", json={"intel": {"count": 500, "sourceName": "Manual", "prefix": "foreign"}}
        ).raise_for_status()
        seeded = time.perf_counter() - seeded
        sandbox.post("/faults", json={"kind": "latency", "latencyMs": args.latency_ms}
                     ).raise_for_status()  # fmt: skip
        rows = [
            measure(url, sandbox, count=args.count, entries=args.entries,
                    page_size=args.page_size, in_flight=n, repeat=args.repeat)
            for n in (8, 1)
        ]  # fmt: skip

    print(f"Tanium read: {args.count:,} intel documents + {args.entries:,} blocklist entries "
          f"(+ labels), {args.latency_ms:g} ms latency per request, page size "
          f"{args.page_size}; seeded in {seeded:.1f}s")  # fmt: skip
    print(f"{'in flight':>9} {'best s':>7} {'median s':>9} {'requests':>9} "
          f"{'client CPU s':>12} {'emulator CPU s':>14} {'RSS MiB':>8}")  # fmt: skip
    for row in rows:
        print(f"{row['in_flight']:>9} {row['best']:>7.2f} {row['median']:>9.2f} "
              f"{row['requests']:>9} {row['client']:>12.2f} {row['server']:>14.2f} "
              f"{row['rss']:>8.0f}")  # fmt: skip
    print("CPU: medians per read; RSS: the client's peak so far")
    print(
        f"concurrent vs one-at-a-time: {rows[1]['median'] / rows[0]['median']:.1f}x faster; "
        "reads exact (every id, count checked)"
    )


if __name__ == "__main__":
    main()
