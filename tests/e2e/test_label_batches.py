"""Labels attached several per call when Tanium takes an array (emulator switch
`label_attach_many`), one per call otherwise — converging either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import apply_then_plan_is_empty, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING

DEMO = (
    Path(__file__).resolve().parents[2] / "sandbox" / "octi_sandbox" / "seed" / "demo-opencti.json"
)


@pytest.mark.parametrize("many", [True, False], ids=["arrays-taken", "one-per-call"])
def test_a_first_sync_attaches_labels_in_as_few_calls_as_the_server_allows(many: bool) -> None:
    source = f"bundle:{DEMO}"
    with tanium_sandbox(seed="empty", label_attach_many=many) as box:
        apply_then_plan_is_empty(box, EVERYTHING, source)
        state = box.state()
        calls = sum(
            count
            for route, count in state["counters"]["requests"].items()
            if route.startswith("PUT ") and route.endswith("/labels")  # attach
        )
        attached = sum(len(d["labelIds"]) for d in state["intels"])
        multi = sum(1 for d in state["intels"] if len(d["labelIds"]) > 1)
    assert multi > 0  # the demo data has documents with several labels
    docs_with_labels = sum(1 for d in state["intels"] if d["labelIds"])
    if many:
        assert calls == docs_with_labels  # one call per document
    else:
        # one per label, after the one refused array: the other documents in flight waited
        # for its answer instead of each trying an array too
        assert calls - attached == 1
