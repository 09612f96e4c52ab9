"""Event-to-Tanium latency: an indicator created in OpenCTI → its document in Tanium.

`octi-tanium sandbox --seed demo` in a child process (both emulators, real HTTP, 5 ms added
to every request of both), the `everything` policy, and in this process the reconciler as
`run` drives it: the live-stream listener, the debounced trigger, full-state passes. Measures,
from the moment the create answered to the moment the document is listed by Tanium (polled
every 20 ms): `--singles` changes one at a time, then a burst of `--burst` creates.

    python -m bench.bench_stream_latency [--singles 200] [--burst 5000] [--debounce 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from controller.cli.demo import start_sandbox
from controller.run import Reconciler
from controller.run.stream_hook import stream_tasks

ROOT = Path(__file__).resolve().parents[1]
EVERYTHING = ROOT / "desired" / "everything.yaml"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def names(http: httpx.AsyncClient, tanium: str) -> set[str]:
    state = (await http.get(f"{tanium}/__sandbox/state", timeout=60)).json()
    return {doc["name"] for doc in state["intels"]}


async def create(http: httpx.AsyncClient, opencti: str, value: str) -> None:
    body = {"op": "create-indicator", "pattern": f"[ipv4-addr:value = '{value}']",
            "name": value, "detection": True, "score": 90}  # fmt: skip
    (await http.post(f"{opencti}/__sandbox/objects", json=body)).raise_for_status()


async def scenario(args: argparse.Namespace, env: dict[str, str]) -> None:
    tanium, opencti = env["TANIUM_URL"], env["OPENCTI_URL"]
    reconciler = Reconciler(EVERYTHING, "opencti")
    made = stream_tasks(reconciler.tick, EVERYTHING, "opencti", debounce=args.debounce)
    assert made is not None
    trigger, listener = made
    tasks = [asyncio.create_task(trigger.run()), asyncio.create_task(listener.run())]
    async with httpx.AsyncClient() as http:
        await reconciler.tick()
        while not listener.up or trigger.passes < 1:
            await asyncio.sleep(0.05)
        await asyncio.sleep(2 * args.debounce)
        singles: list[float] = []
        for i in range(args.singles):
            value = f"100.64.{i >> 8}.{i & 255}"
            await create(http, opencti, value)
            started = time.perf_counter()
            while value not in await names(http, tanium):
                await asyncio.sleep(0.02)
            singles.append(time.perf_counter() - started)
        passes_before = trigger.passes
        created: dict[str, float] = {}
        for i in range(args.burst):
            value = f"100.65.{i >> 8}.{i & 255}"
            await create(http, opencti, value)
            created[value] = time.perf_counter()
        arrived: dict[str, float] = {}
        while len(arrived) < len(created):
            present = await names(http, tanium)
            now = time.perf_counter()
            for value in created.keys() - arrived.keys():
                if value in present:
                    arrived[value] = now
            await asyncio.sleep(0.02)
        burst = [arrived[v] - created[v] for v in created]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(f"singles: {len(singles)} creates, one at a time, debounce {args.debounce:g} s")
    print(f"  p50 {statistics.median(singles):.2f} s  p95 {pct(singles, 0.95):.2f} s  "
          f"max {max(singles):.2f} s  (target p95 < 5 s)")  # fmt: skip
    if burst:
        print(f"burst: {len(burst)} creates as fast as the emulator takes them, in "
              f"{trigger.passes - passes_before} pass(es)")  # fmt: skip
        print(f"  p50 {statistics.median(burst):.2f} s  p95 {pct(burst, 0.95):.2f} s  "
              f"max {max(burst):.2f} s")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--debounce", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="20 singles, a burst of 200")
    args = parser.parse_args(argv)
    if args.quick:
        args.singles, args.burst = 20, 200
    proc, env = start_sandbox("demo")
    try:
        with tempfile.TemporaryDirectory(prefix="octi-tanium-bench-") as tmp:
            os.environ.update(env)
            os.environ.update({"OPENCTI_STREAM_ID": "octi-tanium",
                               "OCTI_TANIUM_STATE_DIR": str(Path(tmp) / "state")})  # fmt: skip
            for url in (env["TANIUM_URL"], env["OPENCTI_URL"]):
                httpx.post(f"{url}/__sandbox/faults",
                           json={"kind": "latency", "latencyMs": args.latency_ms},
                           timeout=10).raise_for_status()  # fmt: skip
            asyncio.run(scenario(args, env))
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


if __name__ == "__main__":
    main()
