"""Full `build_desired` against the memo's warm build, on the same snapshots, alternated.

Each round changes `churn` of the objects (new instances: another score, half of them other
labels) and builds the desired state of that snapshot twice: once from scratch
(`build_desired`) and once with the `DesiredMemo` that built the previous round's. CPU time
(`time.process_time`), the cyclic GC paused as in a pass; the order of the two alternates
from round to round. The last round's two states are compared (every field, item order).

    python -m bench.ab_desired_memo                # 100,000 objects, 1 % churn, 5 rounds
    python -m bench.ab_desired_memo 20000 0.01 3
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from bench.bench_plan import LABELS, NOW, source
from controller.collector import paused
from controller.core.desired import DesiredState, build_desired
from controller.core.desired_memo import DesiredMemo
from controller.core.model import SourceObject, SourceSnapshot
from controller.policy.loader import load_policies

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def cpu(fn: Callable[[], T]) -> tuple[float, T]:
    with paused():
        started = time.process_time()
        result = fn()
        return time.process_time() - started, result


def churned(snapshot: SourceSnapshot, share: float, rng: random.Random) -> SourceSnapshot:
    objects = list(snapshot.objects)
    for i in rng.sample(range(len(objects)), int(len(objects) * share)):
        old = objects[i]
        update: dict[str, object] = {"score": (old.score or 0) + 1}
        if i % 2:
            update["labels"] = tuple(rng.sample(LABELS, 2))
        objects[i] = SourceObject.typed({**old.__dict__, **update})
    return SourceSnapshot(objects=tuple(objects), snapshot_time=snapshot.snapshot_time)


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 100_000
    share = float(argv[1]) if len(argv) > 1 else 0.01
    rounds = int(argv[2]) if len(argv) > 2 else 5
    policies = load_policies(ROOT / "desired" / "everything.yaml").policies
    rng = random.Random(15)
    snapshot = source(n)
    memo = DesiredMemo()
    cold, _ = cpu(partial(memo.build, policies, snapshot, now=NOW))
    full_times: list[float] = []
    warm_times: list[float] = []
    full = warm = DesiredState()
    for r in range(rounds):
        snapshot = churned(snapshot, share, rng)
        for name in ("full", "warm") if r % 2 == 0 else ("warm", "full"):
            if name == "full":
                took, full = cpu(partial(build_desired, policies, snapshot, now=NOW))
                full_times.append(took)
            else:
                took, warm = cpu(partial(memo.build, policies, snapshot, now=NOW))
                warm_times.append(took)
                last = memo.last
                assert not last.full, last.why
        print(
            f"round {r + 1}: full {full_times[-1]:.3f} s  warm {warm_times[-1]:.3f} s  "
            f"(recomputed {last.recomputed}, intel rebuilt {last.intel_rebuilt}, "
            f"files rebuilt {last.files_rebuilt})"
        )
    same = warm == full and list(warm.intel) == list(full.intel)
    same = same and list(warm.blocklist) == list(full.blocklist)
    f_med, w_med = statistics.median(full_times), statistics.median(warm_times)
    print(
        f"n={n} churn={share:.1%} rounds={rounds}: memo cold build {cold:.2f} s; "
        f"full build_desired CPU median {f_med:.3f} s (best {min(full_times):.3f}); "
        f"memo warm build CPU median {w_med:.4f} s (best {min(warm_times):.4f}); "
        f"ratio {f_med / w_med:.0f}x; same state: {same}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
