"""Issue 15: a full pass vs an incremental pass, as `octi-tanium run` does them.

`run` is where passes repeat: one long-lived process, a pass every interval or a second after
a live-stream event. This benchmark drives the reconciler as `run` wires it
(`controller.run.Reconciler.tick`: policies, lease, the driver, the pass's classification)
against the emulators of `bench.bench_pass` (OpenCTI seeded with N indicators, Tanium holding
what an apply of them wrote, 5 ms added to every request of both), with a change window that
is never open: every pass plans and reports only, as outside its windows — so the full and the
incremental contender see exactly the same churn, and neither writes.

Two contenders, each in a process of its own (peak RSS per contender), the same sequence and
repetitions:

- **full**: `OCTI_TANIUM_INCREMENTAL=off` — every pass fetches everything from OpenCTI and
  builds, reads and compares everything (what every pass did before issue 15);
- **incremental**: `run`'s default — the OpenCTI fetch reads what changed since the previous
  pass, and the desired state and the comparison are redone only for what changed
  (docs/realtime.md).

Sequence per contender: a first pass (cold: nothing in memory, no local snapshot), then
`--repeat` rounds of: 1 % churn in OpenCTI (a third new indicators, a third revoked, a third
relabelled: `bench.bench_pass.Churn`), a timed pass — it must plan exactly the churn's creates,
updates and deletes — the churn undone, a timed pass — it must plan no change. Times are those
of the whole pass as `run` logs it (`tick`), requests from the emulators' counters, and the CPU
time each pass cost the client and each emulator (where a pass's wall time went: the emulators
share the machine's cores with the client, where OpenCTI and Tanium are servers of their own).

    python -m bench.bench_run_pass                        # 100,000, 3 rounds
    python -m bench.bench_run_pass --size 500000 --repeat 3   # the issue's
    python -m bench.bench_run_pass --quick                # 2,000, one round
    python -m bench.bench_run_pass --profile DIR   # churn passes under pyinstrument: DIR/NAME.*
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from octi_sandbox.opencti import DEFAULT_TOKEN as OPENCTI_TOKEN
from octi_sandbox.tanium import DEFAULT_TOKEN as TANIUM_TOKEN

from bench import bench_pass as common
from bench.bench_tanium_read import _cpu_of

NEVER_OPEN = """
  schedule:
    windows: [{cron: "0 3 1 1 *", duration: 1m}]   # never open during a run: plan only
"""
CONTENDERS = {"full": {"OCTI_TANIUM_INCREMENTAL": "off"}, "incremental": {}}
"""The environment of each contender (on top of the emulators' and the state directory)."""


def policies_never_writing(tmp: Path) -> Path:
    """`bench_pass`'s policies (the `everything` policy, a deletion budget that admits the
    churn) with a change window that is never open."""
    folder = common.bench_policies(tmp)
    settings = folder / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + NEVER_OPEN, encoding="utf-8")
    return folder


def contender(name: str, job: dict[str, Any], results: Any) -> None:
    """One contender's passes, in a process of its own (its peak RSS is the contender's)."""
    try:
        results.put(_passes(name, job))
    except BaseException as exc:  # the parent reports it (and does not wait forever)
        results.put({"name": name, "error": f"{type(exc).__name__}: {exc}"})


def _passes(name: str, job: dict[str, Any]) -> dict[str, Any]:
    from controller.run import Reconciler, scheduler

    plans: list[Any] = []
    driver = getattr(scheduler, "reconcile")  # noqa: B009 - the driver the scheduler calls

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        outcome = await driver(*args, **kwargs)
        plans.append(outcome.plan)
        return outcome

    setattr(scheduler, "reconcile", recorded)  # noqa: B010 - the plan each tick made
    os.environ.update(job["env"])
    os.environ.update(CONTENDERS[name])
    common.LATENCY_MS[0] = job["latency_ms"]
    churn = common.Churn.of(job["n"], job["churn"])
    urls = (job["tanium"], job["opencti"])
    reconciler = Reconciler(Path(job["policies"]), "opencti")
    out: dict[str, Any] = {"name": name, "first": [], "churn": [], "undone": []}

    pids = (job["pids"][job["tanium"]], job["pids"][job["opencti"]])

    def timed(kind: str, counts: tuple[int, int, int]) -> None:
        before = common.requests_of(*urls)
        cpu = (time.process_time(), _cpu_of(pids[0]), _cpu_of(pids[1]))
        profiler = _profiler(job, kind)
        started = time.perf_counter()
        result = asyncio.run(reconciler.tick())
        seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.stop()
            folder = Path(job["profile"])
            (folder / f"{name}.html").write_text(profiler.output_html(), encoding="utf-8")
            text = profiler.output_text(unicode=False, color=False, show_all=False)
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        used = (time.process_time(), _cpu_of(pids[0]), _cpu_of(pids[1]))
        after = common.requests_of(*urls)
        plan = plans.pop()
        got = (plan.summary.create, plan.summary.update, plan.summary.delete)
        if result.outcome not in ("ok", "deferred") or got != counts:
            raise SystemExit(
                f"{name}, {kind} pass: expected {counts} (create, update, delete), got "
                f"{got}: {result.outcome}: {result.message}"
            )
        spent = tuple(round(b - a, 2) for a, b in zip(cpu, used, strict=True))
        out[kind].append((seconds, after[0] - before[0], after[1] - before[1], *spent))
        print(f"  {name:<12} {kind:<7} {seconds:7.2f} s  {result.message}", flush=True)

    timed("first", (0, 0, 0))
    for _ in range(job["repeat"]):
        common.apply_churn(churn, job["opencti"])
        timed("churn", churn.expected())
        common.undo_churn(churn, job["opencti"])
        timed("undone", (0, 0, 0))
    reconciler.close()
    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _profiler(job: dict[str, Any], kind: str) -> Any:
    """A started pyinstrument profiler for a churn pass when `--profile` asked for one."""
    if not job.get("profile") or kind != "churn":
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    return profiler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=100_000, help="indicators")
    parser.add_argument("--repeat", type=int, default=3, help="churn rounds per contender")
    parser.add_argument("--latency-ms", type=float, default=5.0, help="added per request")
    parser.add_argument("--churn", type=float, default=0.01, help="fraction changed")
    parser.add_argument("--quick", action="store_true", help="2,000 indicators, one round")
    parser.add_argument(
        "--profile", metavar="DIR", help="profile the client's churn passes (pyinstrument)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.repeat = 2000, 1
    n = args.size
    common.LATENCY_MS[0] = args.latency_ms
    print(f"machine: {os.getloadavg()[0]:.1f} load average (1 min), {os.cpu_count()} CPUs")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        print(f"profiling the churn passes into {args.profile} (slower: time without --profile)")
    print(f"\n{n:,} indicators, {args.churn:.0%} churn, {args.repeat} round(s)", flush=True)
    saved = dict(os.environ)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-run-") as name,
            common.emulator("tanium") as tanium,
            common.emulator("opencti", n) as opencti,
        ):
            tmp = Path(name)
            folder = policies_never_writing(tmp)
            common.POLICIES = folder
            base = tmp / "state"
            base.mkdir()
            env = {
                "TANIUM_URL": tanium,
                "TANIUM_TOKEN": TANIUM_TOKEN,
                "OPENCTI_URL": opencti,
                "OPENCTI_TOKEN": OPENCTI_TOKEN,
                "OCTI_TANIUM_PIVOT": "off",
                "OCTI_TANIUM_FULL_EVERY": "1000",
                "NO_COLOR": "1",
            }
            os.environ.update(env)
            os.environ["OCTI_TANIUM_STATE_DIR"] = str(base)
            for url in (tanium, opencti):
                common.latency(url, 0)
            started = time.perf_counter()
            docs, entries = common.seed_tanium(tanium, "opencti", base)
            common.prune_state(base)
            print(
                f"  Tanium seeded with {docs:,} documents and {entries:,} entries in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            for url in (tanium, opencti):
                common.latency(url, args.latency_ms)
            rows = []
            context = multiprocessing.get_context("spawn")
            for contender_name in CONTENDERS:
                state = tmp / f"state-{contender_name}"
                shutil.copytree(base, state)
                job = {
                    "n": n,
                    "repeat": args.repeat,
                    "churn": args.churn,
                    "latency_ms": args.latency_ms,
                    "policies": str(folder),
                    "tanium": tanium,
                    "opencti": opencti,
                    "pids": dict(common.PIDS),
                    "profile": args.profile,
                    "env": {**env, "OCTI_TANIUM_STATE_DIR": str(state)},
                }
                results = context.Queue()
                process = context.Process(target=contender, args=(contender_name, job, results))
                process.start()
                found = results.get(timeout=24 * 3600)
                process.join()
                if "error" in found:
                    raise SystemExit(f"the {contender_name} contender failed: {found['error']}")
                rows.append(found)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    report(rows, n, args)


def report(rows: list[dict[str, Any]], n: int, args: argparse.Namespace) -> None:
    print(
        f"\nPasses as `run` does them (Reconciler.tick, plan only), {n:,} indicators, "
        f"{args.latency_ms:g} ms per request; best / median of {args.repeat}"
    )
    print(
        f"{'contender':<12} {'pass':<8} {'best s':>7} {'median s':>9} {'req Tanium':>10} "
        f"{'req OCTI':>9} {'RSS MiB':>8}   CPU s of the best: client, Tanium emu, OpenCTI emu"
    )
    best: dict[tuple[str, str], float] = {}
    cpu: dict[tuple[str, str], tuple[float, ...]] = {}
    for row in rows:
        for kind in ("first", "churn", "undone"):
            runs = row[kind]
            seconds = [r[0] for r in runs]
            best[row["name"], kind] = min(seconds)
            fastest = min(runs, key=lambda r: r[0])
            cpu[row["name"], kind] = tuple(fastest[3:])
            print(
                f"{row['name']:<12} {kind:<8} {min(seconds):>7.2f} "
                f"{statistics.median(seconds):>9.2f} {runs[-1][1]:>10} {runs[-1][2]:>9} "
                f"{row['rss_mib']:>8.0f}   {fastest[3]:>6.2f} {fastest[4]:>6.2f} {fastest[5]:>6.2f}"
            )
    if ("full", "churn") in best and ("incremental", "churn") in best:
        ratio = best["full", "churn"] / best["incremental", "churn"]
        print(
            f"\nincremental vs full pass, {n:,}, {args.churn:.0%} churn: {ratio:.1f}x faster "
            f"({best['full', 'churn']:.2f} s -> {best['incremental', 'churn']:.2f} s) "
            f"[target >= {common.TARGETS['incremental']:g}x at 500,000]"
        )
        full, inc = cpu["full", "churn"], cpu["incremental", "churn"]
        print(
            f"  CPU of those passes — client {full[0]:.2f} -> {inc[0]:.2f} s, Tanium emulator "
            f"{full[1]:.2f} -> {inc[1]:.2f} s, OpenCTI emulator {full[2]:.2f} -> {inc[2]:.2f} s"
        )


if __name__ == "__main__":
    main()
