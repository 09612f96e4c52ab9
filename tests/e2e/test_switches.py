"""Every unverified Tanium behaviour is a switch of the emulator; the controller must
converge under either answer (plan → apply → plan empty, no duplicates) on a mixed knowledge
base: OpenIOC from STIX patterns and observables, YARA, signals, file hashes, labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING, managed_docs

DEMO = (
    Path(__file__).resolve().parents[2] / "sandbox" / "octi_sandbox" / "seed" / "demo-opencti.json"
)
SWITCHES: list[dict[str, Any]] = [
    {"post_existing_intrinsic_id": "duplicate"},
    {"put_intrinsic_mismatch": "reject"},
    {"yara_intrinsic_id": "null"},
    {"intel_source_filter": False},
    {"list_meta": False},
    {"limit_over_max": "reject"},
    {"intel_list_order": "id_asc"},
    {"label_page_default": 500},
    {"duplicate_label": "conflict"},
    {"attach_unknown_label": "not_found"},
    {"label_attach_many": True},
    {"unknown_group": "null"},
    {"reputation_replace": "append"},
    {"reputation_merge": "append"},
    {"json_charset": True},
    {"delete_unknown": "noop"},
    {"duplicate_source_names": "conflict"},
    {"signal_mitre_attack": "ignore"},
    {"deploy_while_running": "queue"},
    # the facts no working client confirms (issue 14; tests/e2e/test_unverified.py goes deeper)
    {"intel_content_normalization": "whitespace"},
    {"intel_content_normalization": "xml"},
    {"intel_list_description": False},
    {"trailing_slash": "required"},
    {"trailing_slash": "forbidden"},
    {"openioc_strict": True},
    {"deploy_busy_message": "Service busy"},
    {"reputation_notes_field": "comment"},
    {"reputation_delete_by_id": False},
    {"reputation_list_route": False},
    {"quick_add_terms": "alternate"},
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "switch", SWITCHES, ids=lambda s: "=".join(map(str, next(iter(s.items()))))
)
def test_the_controller_converges_under_either_answer(switch: dict[str, Any]) -> None:
    source = f"bundle:{DEMO}"
    with tanium_sandbox(seed="demo", **switch) as box:
        applied = box.cli(
            ["apply", "--policies", str(EVERYTHING), "--source", source, "--auto-approve"]
        )
        assert applied.code == 0, applied.output
        again = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", source, "--detailed-exitcode"]
        )
        assert again.code == 0, again.output
        docs = managed_docs(box.state())
        keys = [
            d["description"].rsplit("key=", 1)[1].split(" ")[0]
            for d in docs
            if "octi-tanium:v1" in d["description"]
        ]
        assert len(keys) == len(set(keys)), "duplicate documents"


def test_a_server_refusing_the_page_size_gets_smaller_pages() -> None:
    source = f"bundle:{DEMO}"
    with tanium_sandbox(
        seed="demo", limit_over_max="reject", intel_page_max=100, reputation_page_max=100
    ) as box:
        applied = box.cli(
            ["apply", "--policies", str(EVERYTHING), "--source", source, "--auto-approve"]
        )
        assert applied.code == 0, applied.output
        again = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", source, "--detailed-exitcode"]
        )
        assert again.code == 0, again.output


def test_writes_whose_reply_is_lost_are_never_duplicated() -> None:
    """The emulator applies each write, then the reply is lost (reset, 502, close) on 40 % of
    the calls: creates must be looked up before they are sent again."""
    source = f"bundle:{DEMO}"
    faults = [
        {"kind": kind, "phase": "after", "method": "POST", "probability": 0.4, "route": "*"}
        for kind in ("reset", "error", "close")
    ]
    with tanium_sandbox(seed="demo", fault_seed=7) as box:
        box.post("/__sandbox/faults", faults)
        for _ in range(3):
            box.cli(["apply", "--policies", str(EVERYTHING), "--source", source, "--auto-approve"])
        assert box.state()["counters"]["faults"] > 0
        box.post("/__sandbox/faults", {"clear": True})
        applied = box.cli(
            ["apply", "--policies", str(EVERYTHING), "--source", source, "--auto-approve"]
        )
        assert applied.code == 0, applied.output
        again = box.cli(
            ["plan", "--policies", str(EVERYTHING), "--source", source, "--detailed-exitcode"]
        )
        assert again.code == 0, again.output
        state = box.state()
        keys = [
            d["description"].rsplit("key=", 1)[1].split(" ")[0]
            for d in managed_docs(state)
            if "octi-tanium:v1" in d["description"]
        ]
        assert len(keys) == len(set(keys)), "duplicate documents"
        names = [lb["name"].lower() for lb in state["labels"]]
        assert len(names) == len(set(names)), "duplicate labels"
        sources = [s["name"] for s in state["sources"]]
        assert len(sources) == len(set(sources)), "duplicate sources"
