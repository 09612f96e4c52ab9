"""Event-to-Tanium latency: an indicator created in OpenCTI → its document in Tanium.

`octi-tanium sandbox --seed demo` in a child process (both emulators, real HTTP, 5 ms added
to every request of both), the `everything` policy, and in this process the reconciler wired
as `run` wires it (`controller.run.service.Service`: the scheduled passes, the live-stream
listener, the trigger, stream-triggered passes taking turns with the scheduled ones).
Measures, from the moment the create answered to the moment the document is listed by Tanium:
`--singles` creates one at a time (the next one as soon as the previous one is listed, or
`--gap` seconds after its pass ended), then
a burst of `--burst` creates posted as fast as the emulator takes them.

For the singles, where the time went: `stream` (create answered → event received by the
listener), `to pass` (→ the pass that saw it started: the debounce, or the pass in flight),
`policies` (→ its OpenCTI fetch started: policies loaded and validated, lease), `fetch`,
`tanium` (read, journal, terms), `plan`, `pivot` (plan made → apply started: reading the
changed documents, the references in OpenCTI) and `apply` (→ the document listed). Tanium's
list is polled every 20 ms for the singles; during the burst, at most every 20 ms and never
more than a quarter of the time (the full list is large: polling it flat out would load the
emulator the reconciler talks to); the printed resolution is the longest gap between polls.

    python -m bench.bench_stream_latency [--singles 200] [--burst 5000] [--quick]
        [--latency-ms 5] [--debounce SECONDS (default: the trigger's)] [--gap SECONDS]

Another checkout's code with this bench: `PYTHONPATH=/tmp/base python bench/bench_stream_latency.py`
(the bench only uses `Reconciler`, `Service`, `stream_tasks` and the `Progress` protocol).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from controller.cli.demo import start_sandbox
from controller.run import Reconciler
from controller.run.outcome import PassResult
from controller.run.service import Service
from controller.run.stream_hook import stream_tasks
from controller.sources.opencti.stream import StreamEvent

ROOT = Path(__file__).resolve().parents[1]
EVERYTHING = ROOT / "desired" / "everything.yaml"
STAGES = ("stream", "to pass", "policies", "fetch", "tanium", "plan", "pivot", "apply")
STATUS = {"Reading Tanium": "tanium", "Planning": "plan"}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class PassRecord:
    start: float
    end: float | None = None
    marks: dict[str, float] = field(default_factory=dict)
    counted: int = 0


class Recorder:
    """A `Progress` that timestamps the stages of each pass."""

    def __init__(self) -> None:
        self.passes: list[PassRecord] = []

    def mark(self, name: str) -> None:
        if self.passes:
            self.passes[-1].marks.setdefault(name, time.perf_counter())

    @contextlib.contextmanager
    def status(self, message: str) -> Iterator[None]:
        name = next((v for k, v in STATUS.items() if message.startswith(k)), None)
        if name:
            self.mark(f"{name}<")
        yield
        if name:
            self.mark(f"{name}>")

    @contextlib.contextmanager
    def counters(self) -> Iterator[Any]:
        record = self.passes[-1] if self.passes else None
        name = "fetch" if record is None or record.counted == 0 else "apply"
        if record is not None:
            record.counted += 1
        self.mark(f"{name}<")
        yield lambda label, done, total: None
        self.mark(f"{name}>")


class Timed(Reconciler):
    """The reconciler, each pass timestamped."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(EVERYTHING, "opencti", progress=recorder)
        self.recorder = recorder

    async def tick(self) -> PassResult:
        record = PassRecord(time.perf_counter())
        self.recorder.passes.append(record)
        try:
            return await super().tick()
        finally:
            record.end = time.perf_counter()


async def names(http: httpx.AsyncClient, tanium: str) -> set[str]:
    state = (await http.get(f"{tanium}/__sandbox/state", timeout=120)).json()
    return {doc["name"] for doc in state["intels"]}


async def create(http: httpx.AsyncClient, opencti: str, value: str) -> None:
    body = {"op": "create-indicator", "pattern": f"[ipv4-addr:value = '{value}']",
            "name": value, "detection": True, "score": 90}  # fmt: skip
    (await http.post(f"{opencti}/__sandbox/objects", json=body)).raise_for_status()


def breakdown(
    answered: float, listed: float, events: list[float], passes: list[PassRecord]
) -> dict[str, float] | None:
    """The stages of one single change, or None when they cannot be told apart."""
    event = next((t for t in events if t >= answered - 0.5), None)
    seen = next((p for p in passes if p.marks.get("fetch<", -1.0) >= answered), None)
    if event is None or seen is None:
        return None
    m = seen.marks
    try:
        points = [answered, event, max(event, seen.start), m["fetch<"], m["fetch>"],
                  m["tanium>"], m["plan>"], m["apply<"], listed]  # fmt: skip
    except KeyError:
        return None
    # a pass that started before the event but read OpenCTI after it: no wait for a pass
    return {name: b - a for name, a, b in zip(STAGES, points, points[1:], strict=False)}


async def scenario(args: argparse.Namespace, env: dict[str, str]) -> None:
    tanium, opencti = env["TANIUM_URL"], env["OPENCTI_URL"]
    recorder = Recorder()
    reconciler = Timed(recorder)
    service = Service(reconciler)
    options = {} if args.debounce is None else {"debounce": args.debounce}
    made = stream_tasks(service.triggered, EVERYTHING, "opencti", **options)
    assert made is not None
    trigger, listener = made
    events: list[float] = []
    relevant = trigger.on_event

    def on_event(event: StreamEvent) -> None:
        if event.topic == "create":
            events.append(time.perf_counter())
        relevant(event)

    trigger.on_event = on_event  # type: ignore[method-assign]
    service.scheduler.start()
    service.schedule(datetime.now(UTC))
    tasks = [asyncio.create_task(trigger.run()), asyncio.create_task(listener.run())]
    async with httpx.AsyncClient() as http:
        while not listener.up or reconciler.passes < 1:
            await asyncio.sleep(0.05)
        await asyncio.sleep(2.0)
        while service.current is not None:
            await asyncio.sleep(0.05)
        singles: list[float] = []
        stages: list[dict[str, float]] = []
        for i in range(args.singles):
            value = f"100.64.{i >> 8}.{i & 255}"
            await create(http, opencti, value)
            started = time.perf_counter()
            while value not in await names(http, tanium):
                await asyncio.sleep(0.02)
            listed = time.perf_counter()
            singles.append(listed - started)
            split = breakdown(started, listed, events, recorder.passes)
            if split is not None:
                stages.append(split)
            while args.gap:  # the reconciler idle for `gap` seconds before the next change
                end = recorder.passes[-1].end
                if end is not None and time.perf_counter() - end >= args.gap:
                    break
                await asyncio.sleep(0.02)
        first_burst_pass = len(recorder.passes)
        created: dict[str, float] = {}
        for i in range(args.burst):
            value = f"100.65.{i >> 8}.{i & 255}"
            await create(http, opencti, value)
            created[value] = time.perf_counter()
        posted = time.perf_counter()
        arrived: dict[str, float] = {}
        longest_gap = 0.0
        last_poll = time.perf_counter()
        while len(arrived) < len(created):
            asked = time.perf_counter()
            present = await names(http, tanium)
            now = time.perf_counter()
            longest_gap = max(longest_gap, now - last_poll)
            last_poll = now
            for value in created.keys() - arrived.keys():
                if value in present:
                    arrived[value] = now
            await asyncio.sleep(max(0.02, 3 * (now - asked)))
        burst = [arrived[v] - created[v] for v in created]
        while service.current is not None:  # the pass that listed the last one, to its end
            await asyncio.sleep(0.05)
        done = max(arrived.values(), default=posted)
        burst_passes = [p for p in recorder.passes[first_burst_pass:] if p.start <= done]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    service.scheduler.shutdown(wait=False)
    report(trigger.debounce, singles, stages, burst, burst_passes, posted, created, longest_gap)


def report(
    debounce: float,
    singles: list[float],
    stages: list[dict[str, float]],
    burst: list[float],
    burst_passes: list[PassRecord],
    posted: float,
    created: dict[str, float],
    resolution: float,
) -> None:
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")
    if singles:
        print(f"singles: {len(singles)} creates, one at a time, debounce {debounce:g} s")
        print(f"  p50 {statistics.median(singles):.2f} s  p95 {pct(singles, 0.95):.2f} s  "
              f"max {max(singles):.2f} s  (target p95 < 5 s)")  # fmt: skip
    if stages:
        print(f"  where it went ({len(stages)} of them), seconds:")
        print("    " + "".join(f"{name:>10}" for name in ("", *STAGES)))
        for label, q in (("p50", 0.5), ("p95", 0.95)):
            row = [pct([s[name] for s in stages], q) for name in STAGES]
            print("    " + f"{label:>10}" + "".join(f"{v:10.3f}" for v in row))
    if burst:
        span = posted - min(created.values())
        durations = [p.end - p.start for p in burst_passes if p.end is not None]
        cut = sum(1 for p in burst_passes if p.start < posted)
        median = statistics.median(durations) if durations else 0.0
        longest = max(durations, default=0.0)
        print(
            f"burst: {len(burst)} creates posted in {span:.1f} s, in {len(burst_passes)} "
            f"pass(es), {cut} started while it was posted (median {median:.2f} s, longest "
            f"{longest:.2f} s); polled every {resolution:.2f} s at most"
        )
        print(f"  p50 {statistics.median(burst):.2f} s  p95 {pct(burst, 0.95):.2f} s  "
              f"max {max(burst):.2f} s")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--debounce", type=float, default=None)
    parser.add_argument(
        "--gap",
        type=float,
        default=0.0,
        help="seconds between a single's pass ending and the next create (0: the next one as "
        "soon as the previous one is listed, while its pass is still running)",
    )
    parser.add_argument("--quick", action="store_true", help="20 singles, a burst of 200")
    args = parser.parse_args(argv)
    if args.quick:
        args.singles, args.burst = 20, 200
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"code: {sys.modules[Reconciler.__module__].__file__}; load average: {load}")
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
