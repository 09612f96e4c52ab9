"""A/B of the no-change pass's pure stage: `build_desired` + `make_plan` at N objects against
a Tanium that holds exactly the desired state, best of R, GC paused (as `plan_from` runs it),
process CPU time (steadier than wall time on a shared machine; the best wall time is shown
too), for whichever tree is first on PYTHONPATH (run two trees alternately on the same venv)::

    git archive <base> | tar -x -C /tmp/base && cp bench/ab_noop.py /tmp/base/bench/
    PY=$PWD/.venv/bin/python
    for i in 1 2 3; do
      (cd /tmp/base && $PY -m bench.ab_noop 100000 3 base)
      $PY -m bench.ab_noop 100000 3 this
    done

Run each tree from its own directory: `python -m` puts the current directory first on
`sys.path`, before `PYTHONPATH`, so a tree named only by `PYTHONPATH` is not the one
imported. The line printed names the `controller` package that ran.

`journal`: every owned document's (md5, digest), what the write journal holds after one
pass (each document written or found in sync once); `none`: an empty journal (a first pass,
or a lost state directory). `--tracemalloc` adds one more run under tracemalloc for the peak
of the stage (slower; its time is not reported).
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc
from pathlib import Path
from typing import Any

import controller
from bench.bench_plan import NOW, actual_from, everything, source
from controller.core.desired import build_desired
from controller.core.diff import make_plan
from controller.core.model import TaniumId


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("n", type=int)
    parser.add_argument("repeat", type=int)
    parser.add_argument("name")
    parser.add_argument("--journal", choices=("journal", "none"), default="journal")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args(argv)
    policies, snapshot = everything(), source(args.n)
    first = build_desired(policies, snapshot, now=NOW)
    actual = actual_from(first, drift=0.0)
    stored: dict[TaniumId, tuple[str, str]] = {}
    if args.journal == "journal":
        by_key = {doc.intrinsic_id: doc for doc in actual.intel}
        for key, want in first.intel.items():
            have = by_key.get(key)
            if have is not None:
                stored[have.id] = (have.md5, want.digest)
    del first
    settings = policies.settings

    def stage() -> Any:
        desired = build_desired(policies, snapshot, now=NOW)
        return desired, make_plan(desired, actual, settings=settings, now=NOW, stored=stored)

    best_build = best_plan = best = best_wall = float("inf")
    for _ in range(args.repeat):
        gc.collect()
        gc.disable()
        wall = time.perf_counter()
        started = time.process_time()
        desired = build_desired(policies, snapshot, now=NOW)
        built = time.process_time()
        plan = make_plan(desired, actual, settings=settings, now=NOW, stored=stored)
        done = time.process_time()
        best_wall = min(best_wall, time.perf_counter() - wall)
        gc.enable()
        best_build = min(best_build, built - started)
        best_plan = min(best_plan, done - built)
        best = min(best, done - started)
        assert not plan.has_changes, plan.summary
        del desired, plan
    peak = ""
    if args.tracemalloc:
        gc.collect()
        tracemalloc.start()
        result = stage()
        peak = f"  tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MiB"
        tracemalloc.stop()
        del result
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tree = Path(controller.__file__).resolve().parent.parent
    print(
        f"{args.name} n={args.n} journal={args.journal} best-of-{args.repeat} (CPU s): "
        f"build_desired {best_build:.2f}  make_plan {best_plan:.2f}  both {best:.2f}  "
        f"(wall {best_wall:.2f})  maxrss {rss:.0f} MiB{peak}  [{tree}]"
    )


if __name__ == "__main__":
    main()
