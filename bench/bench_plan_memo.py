"""Issue 15 benchmark: a warm pass's diff+plan, `make_plan` against `PlanMemo.make`.

The inputs of `bench_plan` (100,000 indicators, Tanium 1 % drifted), then passes that each
change 1 % of the desired items (new instances: labels of intel, notes of blocklist entries;
the rest the very same instances, as the desired memo keeps them) and 1 % of Tanium's objects
(md5 or labels of documents, notes of entries), every object of the inventory a new instance
as a fresh read gives it (a pickle round trip). Each pass runs both contenders, alternating
which goes first, in CPU time (`time.process_time`) with the collector paused as the pipeline
runs the pure stage; their plans are compared (outside the timing) so the figures are for the
same result.

    python -m bench.bench_plan_memo                   # 100,000, 5 passes
    python -m bench.bench_plan_memo --journal         # with the write journal, as `run` passes it
    python -m bench.bench_plan_memo --n 10000 --passes 3
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import pickle
import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TypeVar

from bench.bench_plan import NOW, actual_from, everything, source
from controller.collector import paused as gc_paused
from controller.core.desired import DesiredState, build_desired
from controller.core.diff import make_plan
from controller.core.diff.memo import PlanMemo
from controller.core.diff.plan import PlanOptions
from controller.core.model import ActualState, TaniumId

T = TypeVar("T")


def churn(
    desired: DesiredState, actual: ActualState, share: float, rng: random.Random
) -> tuple[DesiredState, ActualState]:
    """The next pass's inputs: `share` of the desired items and of Tanium's objects changed,
    every Tanium object a new instance."""
    intel, files = dict(desired.intel), dict(desired.blocklist)
    for key in rng.sample(list(intel), round(len(intel) * share)):
        labels = intel[key].labels
        intel[key] = intel[key].model_copy(update={"labels": (*labels[1:], f"c{rng.random()}")})
    for key in rng.sample(list(files), round(len(files) * share)):
        notes = f"{rng.random()} {files[key].notes}"  # the marker stays last
        files[key] = files[key].model_copy(update={"notes": notes})
    docs, entries = list(actual.intel), list(actual.blocklist)
    for i in rng.sample(range(len(docs)), round(len(docs) * share)):
        if rng.random() < 0.5:
            docs[i] = dataclasses.replace(docs[i], md5=f"{rng.getrandbits(128):032x}")
        else:
            docs[i] = dataclasses.replace(docs[i], label_ids=(TaniumId(rng.randint(1, 6)),))
    for i in rng.sample(range(len(entries)), round(len(entries) * share)):
        entries[i] = dataclasses.replace(entries[i], notes=f"edited {entries[i].notes}")
    fresh = pickle.loads(pickle.dumps(actual.model_copy(update={"intel": tuple(docs)})))
    fresh = fresh.model_copy(update={"blocklist": pickle.loads(pickle.dumps(tuple(entries)))})
    after = dataclasses.replace(desired, intel=intel, blocklist=files)
    return after, fresh


def cpu(fn: Callable[[], T]) -> tuple[float, T]:
    gc.collect()
    with gc_paused():
        started = time.process_time()
        result = fn()
        return time.process_time() - started, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument(
        "--journal",
        action="store_true",
        help="pass the write journal (`stored`, what `learned` taught) and a deploy status",
    )
    args = parser.parse_args(argv)
    policies = everything()
    settings = policies.settings
    desired = build_desired(policies, source(args.n), now=NOW)
    actual = actual_from(desired, drift=0.01)
    if args.journal:
        actual = actual.model_copy(
            update={"deploy_known": True, "last_deploy_at": NOW - timedelta(hours=1)}
        )
    journal: dict[TaniumId, tuple[str, str]] | None = {} if args.journal else None
    memo = PlanMemo()
    taught: dict[TaniumId, tuple[str, str]] = {}
    first, _ = cpu(
        lambda: memo.make(
            desired, actual, settings=settings, now=NOW, stored=journal, learned=taught
        )
    )
    print(f"first pass (full, remembers): {first:.3f} s CPU; {memo.stats}")
    if journal is not None:  # the steady state: the journal vouches for what it learned
        journal.update(taught)
        memo.make(desired, actual, settings=settings, now=NOW, stored=journal)
    rng = random.Random(15)
    full_s: list[float] = []
    memo_s: list[float] = []
    for n in range(args.passes):
        desired, actual = churn(desired, actual, args.churn, rng)
        stored = dict(journal) if journal is not None else None
        learned: tuple[dict[TaniumId, tuple[str, str]], ...] = ({}, {})
        ref: PlanOptions = {
            "settings": settings,
            "now": NOW,
            "stored": stored,
            "learned": learned[0],
        }
        mine: PlanOptions = {
            "settings": settings,
            "now": NOW,
            "stored": stored,
            "learned": learned[1],
        }
        reference = partial(make_plan, desired, actual, **ref)
        incremental = partial(memo.make, desired, actual, **mine)
        if n % 2:
            t_memo, got = cpu(incremental)
            t_full, want = cpu(reference)
        else:
            t_full, want = cpu(reference)
            t_memo, got = cpu(incremental)
        assert got == want, "the memo's plan differs from make_plan's"
        assert learned[0] == learned[1], "the memo learned otherwise"
        if journal is not None:
            journal.update(learned[0])  # as `run` records it
        full_s.append(t_full)
        memo_s.append(t_memo)
        print(
            f"pass {n + 1}: make_plan {t_full:.3f} s, memo {t_memo:.3f} s "
            f"({t_full / t_memo:.1f}x); {memo.stats.mode}, "
            f"{memo.stats.recomputed} of {memo.stats.keys} keys joined again"
        )
    full_med, memo_med = statistics.median(full_s), statistics.median(memo_s)
    print(
        f"median over {args.passes} passes at {args.n:,}: make_plan {full_med:.3f} s CPU, "
        f"PlanMemo.make {memo_med:.3f} s CPU: {full_med / memo_med:.1f}x cheaper "
        f"(best: {min(full_s):.3f} vs {min(memo_s):.3f} s)"
    )


if __name__ == "__main__":
    main()
