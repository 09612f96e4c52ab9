"""Golden renderings: a format change shows up as a diff of a committed file.

Regenerate after an intended change with: UPDATE_GOLDEN=1 pytest tests/unit/test_renderings.py
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.core.diagnostics import Diagnostic
from controller.core.plan import (
    Change,
    Guard,
    Inputs,
    Origins,
    Plan,
    PlanItem,
    Skipped,
    summarize,
    to_json,
)
from controller.planfile import load_plan, save_plan
from controller.report import render_markdown, render_text_plain

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def sample_plan() -> Plan:
    items = (
        PlanItem(
            action="create",
            kind="label",
            key="label:emotet",
            reason="new",
            name="emotet",
            desired={"name": "emotet"},
        ),
        PlanItem(
            action="create",
            kind="intel",
            key="domain-name--1",
            reason="new",
            name="evil.example",
            desired={"key": "domain-name--1"},
            origins=Origins(
                objects=("indicator--a1", "indicator--a2", "indicator--a3"),
                policies=("apt-domains", "phishing"),
            ),
        ),
        PlanItem(
            action="update",
            kind="intel",
            key="indicator--2",
            reason="labels",
            name="Cobalt Strike beacon",
            tanium_id=12,
            origins=Origins(objects=("indicator--2",), policies=("c2",)),
            changes=(
                Change(field="labels", before=["cobalt-strike", "old"], after=["cobalt-strike"]),
            ),
        ),
        PlanItem(
            action="update",
            kind="intel",
            key="indicator--3",
            reason="drift",
            name="Emotet loader (YARA)",
            tanium_id=13,
            changes=(Change(field="content", before="0f3a", after="9bc1"),),
        ),
        PlanItem(
            action="no-op",
            kind="intel",
            key="ipv4-addr--4",
            reason="in-sync",
            name="198.51.100.7",
            tanium_id=14,
        ),
        PlanItem(
            action="delete",
            kind="intel",
            key="indicator--5",
            reason="revoked",
            name="old.example",
            tanium_id=15,
        ),
        PlanItem(
            action="delete",
            kind="blocklist",
            key="file--6",
            reason="expired",
            name="a" * 64,
            tanium_id=3,
            blocked=True,
            guard="complete",
        ),
        PlanItem(
            action="create",
            kind="deploy",
            key="deploy",
            reason="changed",
            name="Intel DB deploy (3 document change(s))",
        ),
    )
    return Plan(
        created_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        inputs=Inputs(
            policy_revision="abc123",
            query_hash="q1",
            source="bundle:x.json",
            source_name="OpenCTI (octi-tanium)",
            inventory_fingerprint="f" * 32,
        ),
        summary=summarize(items),
        guards=(
            Guard(
                name="complete",
                ok=False,
                detail="desired state is incomplete, deletes withheld: page 3 of indicators failed",
            ),
            Guard(name="deletion-budget", ok=True, detail="2 delete(s) of 40 owned object(s)"),
        ),
        items=items,
        skipped=(
            Skipped(key="indicator--7", reason="revoked", name="www.xolod-teplo.ru"),
            Skipped(
                key="indicator--8",
                reason="unsupported-pattern-type",
                name="sigma rule",
                detail="pattern type sigma is not supported by Tanium",
            ),
        ),
        diagnostics=(
            Diagnostic.warning(
                "YARA rule 'x' line 3: condition is always false", key="indicator--9"
            ),
            Diagnostic.error("pattern type sigma is not supported by Tanium", key="indicator--8"),
        ),
        unowned=2,
    )


@pytest.mark.parametrize(
    ("name", "render"),
    [("plan.txt", render_text_plain), ("plan.md", render_markdown), ("plan.json", to_json)],
)
def test_rendering_matches_golden_file(name: str, render: object) -> None:
    text = render(sample_plan())  # type: ignore[operator]
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_saved_plan_loads_back_identical(tmp_path: Path) -> None:
    plan = sample_plan()
    save_plan(plan, tmp_path / "plan.json")
    assert load_plan(tmp_path / "plan.json") == plan


def test_plan_json_carries_the_contract_fields() -> None:
    data = json.loads(to_json(sample_plan()))
    assert data["format_version"] == "1.1"
    assert set(data["summary"]) == {"create", "update", "delete", "no_op", "blocked"}
    assert all({"name", "ok", "detail"} <= set(g) for g in data["guards"])
    for item in data["items"]:
        assert {"action", "kind", "key", "reason", "name"} <= set(item)
    assert {"key", "reason"} <= set(data["skipped"][0])
    assert {"severity", "key", "message"} <= set(data["diagnostics"][0])


def test_plan_json_names_the_origins_of_desired_items() -> None:
    items = json.loads(to_json(sample_plan()))["items"]
    create = next(i for i in items if i["key"] == "domain-name--1")
    assert create["origins"] == {
        "objects": ["indicator--a1", "indicator--a2", "indicator--a3"],
        "policies": ["apt-domains", "phishing"],
    }
    assert next(i for i in items if i["key"] == "label:emotet")["origins"] is None


def test_text_and_markdown_name_the_policies_and_count_the_objects() -> None:
    for text in (render_text_plain(sample_plan()), render_markdown(sample_plan())):
        line = next(x for x in text.splitlines() if "evil.example" in x)
        assert "← apt-domains, phishing · 3 OpenCTI objects" in line
        assert "indicator--a1" not in text  # the ids are in the JSON only


def test_a_plan_file_of_format_1_0_still_loads(tmp_path: Path) -> None:
    data = json.loads(to_json(sample_plan()))
    data["format_version"] = "1.0"
    for item in data["items"]:
        del item["origins"]
    (tmp_path / "old.json").write_text(json.dumps(data), encoding="utf-8")
    loaded = load_plan(tmp_path / "old.json")
    assert loaded.format_version == "1.0"
    assert all(i.origins is None for i in loaded.items)


def test_exit_code_is_three_when_a_guard_withheld_changes() -> None:
    assert sample_plan().exit_code() == 3
