"""Issue 15 benchmark: apply of 1,000 new indicators, over real HTTP, against the latency limit.

The Tanium emulator runs in its own process (uvicorn, 127.0.0.1; its CPU does not compete with
the client's for the GIL), emptied before every round, with 5 ms added to every request. The
source is a STIX bundle of `--count` new indicators (¼ IPv4, ¼ domain, ¼ URL, ¼ SHA-256, two
labels each out of six, like `bench_plan`'s source) under the `everything` policy. One round is
the real pass a user waits for: `reconcile(mode="apply")` (bundle read, Tanium read, plan,
apply, journal), the same code `octi-tanium apply --auto-approve` runs; the apply stage (the
executor: labels, the source, creates, label attaches, deploy) is timed alone too.

Printed per round and best-of-N (the same N for every configuration): wall time of the pass
and of the apply stage, requests of the apply stage (the emulator's own counters), the latency
limit `ideal = requests x latency / in-flight`, the ratio to it, and the client's CPU per
indicator during the apply stage (`time.process_time`, this process only: the emulator is
another process).

    python -m bench.bench_apply                       # 1,000 indicators, best of 5
    python -m bench.bench_apply --quick               # 300 indicators, best of 2
    python -m bench.bench_apply --label-attach-many   # the emulator takes label arrays
    python -m bench.bench_apply --profile apply.html  # one more round under pyinstrument
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from octi_sandbox.tanium import DEFAULT_TOKEN

from bench.bench_plan import bench_pattern
from bench.bench_tanium_read import emulator_process
from controller.tanium.transport import Transport

NOW = datetime(2026, 11, 28, tzinfo=UTC)
LABELS = ("emotet", "qakbot", "cobalt-strike", "ransomware", "phishing", "tanium")
IN_FLIGHT = 8
POLICY = """apiVersion: octi-tanium/v1
kind: IntelPolicy
metadata: {name: everything}
spec:
  select: {}
  target: {intel: {}, blocklist: {}}
"""
SETTINGS = """apiVersion: octi-tanium/v1
kind: Settings
metadata: {name: settings}
spec:
  source: OpenCTI (octi-tanium)
  concurrency: %d
"""


def bundle(n: int) -> dict[str, Any]:
    """`n` new STIX indicators of four kinds, two labels each."""
    rng = random.Random(n)
    objects = []
    for i in range(n):
        pattern = bench_pattern(i)
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{i:08x}-0000-4000-8000-000000000000",
                "created": "2026-11-01T00:00:00.000Z",
                "modified": "2026-11-01T00:00:00.000Z",
                "name": f"bench indicator {i}",
                "description": "generated for the benchmark",
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": "2026-11-01T00:00:00.000Z",
                "labels": rng.sample(LABELS, 2),
                "x_opencti_score": rng.randint(50, 100),
            }
        )
    return {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
            "objects": objects}  # fmt: skip


@dataclass
class Round:
    whole: float
    stage: float
    stage_cpu: float
    server_cpu: float
    requests: int
    by_route: dict[str, int]
    written: int
    in_flight: float
    """Requests in flight on average during the apply stage (time in `Transport._send`)."""
    request_ms: float
    """Mean time of one request as the client sees it (latency + server + both event loops)."""


def _emulator_cpu() -> float:
    """CPU seconds (user + system) the emulator's process has used so far (Linux `/proc`)."""
    children = multiprocessing.active_children()
    if not children or not Path(f"/proc/{children[0].pid}/stat").exists():
        return float("nan")
    fields = Path(f"/proc/{children[0].pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _counters(sandbox: httpx.Client) -> dict[str, int]:
    data = sandbox.get("/state", params={"contents": "false"}).json()["counters"]["requests"]
    return {str(k): int(v) for k, v in data.items()}


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def one_round(
    sandbox: httpx.Client, policies: Path, source: str, latency_ms: float, attach_many: bool
) -> Round:
    import controller.reconcile as reconcile_module

    sandbox.post("/reset", json={"seed": "empty"}).raise_for_status()
    sandbox.post("/config", json={"label_attach_many": attach_many}).raise_for_status()
    sandbox.post("/faults", json={"clear": True, "faults": [
        {"kind": "latency", "latencyMs": latency_ms}]}).raise_for_status()  # fmt: skip
    stage: dict[str, Any] = {}
    real_apply = reconcile_module._apply
    real_send = Transport._send
    busy = [0.0, 0]  # seconds inside `_send` during the apply stage, requests

    async def timed_send(self: Transport, *args: Any) -> Any:
        began = time.perf_counter()
        try:
            return await real_send(self, *args)
        finally:
            if "cpu_at" in stage:
                busy[0] += time.perf_counter() - began
                busy[1] += 1

    async def timed_apply(*args: Any, **kwargs: Any) -> Any:
        before = _counters(sandbox)  # outside the timed region (blocks the loop briefly)
        server = _emulator_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        stage["cpu_at"] = cpu
        report = await real_apply(*args, **kwargs)
        stage["wall"] = time.perf_counter() - wall
        stage["cpu"] = time.process_time() - cpu
        stage["server"] = _emulator_cpu() - server
        stage["routes"] = _delta(_counters(sandbox), before)
        stage["written"] = sum(1 for r in report.results if r.status == "ok")
        failed = [r for r in report.results if r.status != "ok"]
        if failed:
            raise SystemExit(f"{len(failed)} item(s) not applied, e.g. {failed[0].message}")
        return report

    setattr(reconcile_module, "_apply", timed_apply)  # noqa: B010 (patched for the rounds only)
    setattr(Transport, "_send", timed_send)  # noqa: B010
    try:
        started = time.perf_counter()
        outcome = asyncio.run(reconcile_module.reconcile(policies, source, mode="apply", now=NOW))
        whole = time.perf_counter() - started
    finally:
        setattr(reconcile_module, "_apply", real_apply)  # noqa: B010
        setattr(Transport, "_send", real_send)  # noqa: B010
    if outcome.report is None:
        raise SystemExit("nothing was applied")
    routes = stage["routes"]
    return Round(whole, stage["wall"], stage["cpu"], stage["server"], sum(routes.values()), routes,
                 stage["written"], busy[0] / stage["wall"],
                 busy[0] / max(busy[1], 1) * 1000)  # fmt: skip


def _route_summary(routes: dict[str, int], n: int) -> str:
    """Requests per kind of call (ids folded), and per indicator."""
    groups: dict[str, int] = {}
    for route, count in routes.items():
        name = re.sub(r"/\d+", "/{id}", route)
        groups[name] = groups.get(name, 0) + count
    return "\n".join(f"  {v:>6} {v / n:>5.2f}/indicator  {k}" for k, v in sorted(groups.items()))


def run(args: argparse.Namespace, profile: Callable[[Callable[[], Round]], Round] | None = None
        ) -> list[Round]:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        root = Path(tmp)
        policies = root / "policies"
        policies.mkdir()
        (policies / "everything.yaml").write_text(POLICY)
        (policies / "settings.yaml").write_text(SETTINGS % args.in_flight)
        path = root / "bundle.json"
        path.write_text(json.dumps(bundle(args.count)))
        with emulator_process() as url, httpx.Client(
            base_url=url + "/__sandbox", timeout=120
        ) as sandbox:  # fmt: skip
            os.environ.update({
                "TANIUM_URL": url, "TANIUM_TOKEN": DEFAULT_TOKEN,
                "TANIUM_MAX_IN_FLIGHT": str(args.in_flight),
                "OCTI_TANIUM_STATE_DIR": str(root / "state"),
            })  # fmt: skip

            def go() -> Round:
                return one_round(sandbox, policies, f"bundle:{path}", args.latency_ms,
                                 args.label_attach_many)  # fmt: skip

            rounds = []
            for i in range(args.repeat):
                r = go()
                rounds.append(r)
                client, server = (x / args.count * 1000 for x in (r.stage_cpu, r.server_cpu))
                print(f"  round {i + 1}: pass {r.whole:.2f}s, apply {r.stage:.2f}s, "
                      f"{r.requests} requests, CPU per indicator {client:.2f} ms client, "
                      f"{server:.2f} ms emulator; {r.in_flight:.2f} in flight on average, "
                      f"{r.request_ms:.1f} ms per request", flush=True)  # fmt: skip
            if profile is not None:
                profile(go)
    return rounds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000, help="new indicators")
    parser.add_argument("--latency-ms", type=float, default=5.0, help="added per request")
    parser.add_argument("--in-flight", type=int, default=IN_FLIGHT,
                        help="TANIUM_MAX_IN_FLIGHT and the Settings' concurrency")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5, help="rounds (best-of-N)")
    parser.add_argument("--label-attach-many", action="store_true",
                        help="the emulator takes several labels per PUT …/labels")  # fmt: skip
    parser.add_argument("--profile", metavar="FILE.html",
                        help="one more round under pyinstrument, written to FILE.html "
                        "(and a text summary on stdout)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="300 indicators, best of 2")
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.repeat = 300, 2

    profile = None
    if args.profile:
        from pyinstrument import Profiler

        def profile(go: Callable[[], Round]) -> Round:
            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            try:
                return go()
            finally:
                profiler.stop()
                Path(args.profile).write_text(profiler.output_html())
                print(profiler.output_text(unicode=False, color=False, show_all=False))

    print(f"Apply of {args.count:,} new indicators (two labels each), "
          f"{args.latency_ms:g} ms latency per request, {args.in_flight} in flight, "
          f"label_attach_many={'on' if args.label_attach_many else 'off'}; "
          f"best of {args.repeat}", flush=True)  # fmt: skip
    rounds = run(args, profile)
    best = min(rounds, key=lambda r: r.stage)
    ideal = best.requests * args.latency_ms / 1000 / args.in_flight
    whole = min(r.whole for r in rounds)
    cpu = min(r.stage_cpu for r in rounds) / args.count * 1000
    server_cpu = min(r.server_cpu for r in rounds) / args.count * 1000
    print(f"requests (apply stage): {best.requests} = "
          f"{best.requests / args.count:.2f} per indicator:\n"
          f"{_route_summary(best.by_route, args.count)}")  # fmt: skip
    print(f"{'':>12} {'best s':>7} {'median s':>9} {'ideal s':>8} {'ratio':>6}")
    for name, values in (("apply stage", [r.stage for r in rounds]),
                         ("whole pass", [r.whole for r in rounds])):  # fmt: skip
        print(f"{name:>12} {min(values):>7.2f} {statistics.median(values):>9.2f} "
              f"{ideal:>8.2f} {min(values) / ideal:>5.2f}x")  # fmt: skip
    print(
        f"CPU in the apply stage, per indicator (best): client {cpu:.2f} ms, emulator "
        f"{server_cpu:.2f} ms (its own process)"
    )
    print(f"in flight on average (apply stage, best round): {best.in_flight:.2f} of "
          f"{args.in_flight}; {best.request_ms:.1f} ms per request as the client sees it "
          f"({args.latency_ms:g} ms added)")  # fmt: skip
    print(f"whole pass best {whole:.2f}s; target: apply within 1.5x of ideal")


if __name__ == "__main__":
    main()
