"""A/B of building the desired state: `build_desired` at N objects, best of R, GC paused, for
whichever tree is first on PYTHONPATH (run two trees alternately on the same venv)::

    git archive <base> | tar -x -C /tmp/base && cp bench/ab_desired.py /tmp/base/bench/
    PY=$PWD/.venv/bin/python
    for i in 1 2; do
      (cd /tmp/base && $PY -m bench.ab_desired 20000 3 base)
      $PY -m bench.ab_desired 20000 3 this
    done

Run each tree from its own directory: `python -m` puts the current directory first on
`sys.path`, before `PYTHONPATH`, so a tree named only by `PYTHONPATH` is not the one
imported (an earlier version of this recipe did exactly that).
"""

from __future__ import annotations

import gc
import resource
import sys
import time

from bench.bench_plan import NOW, everything, source
from controller.core.desired import build_desired


def main(argv: list[str]) -> None:
    n, repeat, name = int(argv[0]), int(argv[1]), argv[2]
    policies, snapshot = everything(), source(n)
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        started = time.perf_counter()
        desired = build_desired(policies, snapshot, now=NOW)
        best = min(best, time.perf_counter() - started)
        gc.enable()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name} n={n} build_desired best-of-{repeat}: {best:.2f} s  maxrss {rss:.0f} MiB  "
        f"intel={len(desired.intel)} blocklist={len(desired.blocklist)}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
