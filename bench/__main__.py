"""`make bench`: every benchmark, one after the other (figures go to bench/RESULTS.md)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = (
    "bench.bench_tanium_read",
    "bench.bench_opencti_fetch",
    "bench.bench_plan",
    "bench.bench_apply",
    "bench.bench_pass",
    "bench.bench_run_pass",
)


def main() -> None:
    quick = ["--quick"] if "--quick" in sys.argv[1:] else []
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(name)
        module.main(quick)


if __name__ == "__main__":
    main()
