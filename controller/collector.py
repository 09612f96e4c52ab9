"""The cyclic garbage collector paused for a stage that allocates many acyclic objects.

A pass builds hundreds of thousands of small objects that never form cycles (source objects,
documents read from Tanium, desired documents, plan items). Every few hundred allocations
the collector walks the young ones, and as the heap grows it walks everything again and
again: a third of the Tanium read's CPU at 100,000 documents, ~30 % of the diff at 200,000.
`paused()` turns it off for such a stage and back on when the last overlapping stage ends
(reentrant: the OpenCTI listing, the bundle parse in its thread and the Tanium read overlap),
if it was on before the first. What little the event loop leaves meanwhile is collected once
the pause ends (a process that exits after its one pass freezes it instead: `exit_soon`).
No I/O; used by the driver and the readers.

A reader that pauses it still makes cyclic garbage of its own — an HTTP response and what
refers back to it, with the page's body — which would all live until the pause ends:
`collect_young()` after each page frees it, walking only what was allocated since.

`Between` keeps what a long-lived process holds from pass to pass out of the collector's
walks (`run`).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_pauses = 0
_was_enabled = False
_freeze_on_resume = False


def exit_soon() -> None:
    """This process makes one pass and exits (`plan`, `apply` from the console script): from
    now on, what a pause leaves is frozen (`gc.freeze`) when the collector resumes, instead of
    walked. Nearly all of it lives to the end of the pass (the source, Tanium's inventory, the
    desired state, the plan), and the first collection after a pause walks every object the
    pause allocated: at 100,000 indicators, two walks over millions of objects, ~0.2–0.3 s of
    a 5 s pass. Cyclic garbage made during a pause then stays until the process exits (the
    readers free theirs page by page: `collect_young`); what is allocated after, the apply's
    requests among it, is collected as usual. Never for a long-lived process (`run` freezes
    between its passes: `Between`), nor for tests calling the commands in-process."""
    global _freeze_on_resume
    _freeze_on_resume = True


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The collector off for the enclosed stage (see the module)."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                if _freeze_on_resume:
                    gc.freeze()
                gc.enable()


def collect_young() -> None:
    """Collect the two young generations only (see the module): cheap, since the objects a
    stage keeps were moved to the old one by the previous call and are not walked again."""
    gc.collect(1)


class Between:
    """The collector between the passes of a long-lived process (`run`).

    `run` keeps its last pass's state from one pass to the next (`controller.reconcile.
    PassMemory`: at 500,000 indicators, tens of millions of objects). A full collection walks
    all of it — about a second per 100,000 indicators — whenever enough new objects have
    survived since the last one, and a first pass or a pass with many changes makes that many:
    a warm pass paid a full walk now and then, the first pass three. After each pass,
    `settle` collects the pass's young garbage (cheap) and freezes what survives (`gc.freeze`:
    never walked again), so the next passes walk only what they allocate. Every `every`-th
    pass it unfreezes and collects everything once, so garbage that was frozen in a cycle
    (rare: a handful of objects per pass) is freed within `every` passes instead of never."""

    def __init__(self, every: int = 12) -> None:
        self.every = every
        self.settled = 0

    def settle(self) -> None:
        self.settled += 1
        if self.settled % self.every == 0:
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()
