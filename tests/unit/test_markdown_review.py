"""The review-grade Markdown: a plan of 20,000 changes, made by the pure pipeline from a
generated source and inventory (not hand-built), fits one GitHub comment and keeps the
summary, every blocked and deleted count, and every error; grouping by policy when plan items
record their origins."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from controller.core.desired import DesiredState, build_desired
from controller.core.diagnostics import Position
from controller.core.diff import make_plan
from controller.core.model import ActualIntel, ActualState, SourceObject, SourceSnapshot, TaniumId
from controller.core.plan import Origins, Plan, PlanItem, summarize
from controller.policy.located import Located, PolicySet
from controller.policy.models import IntelPolicy, SettingsSpec
from controller.report import render_markdown
from controller.report.budget import DEFAULT_LIMIT

NOW = datetime(2026, 11, 28, tzinfo=UTC)
BROKEN = 25


def policies(max_deletes: int) -> PolicySet:
    doc = IntelPolicy.model_validate(
        {
            "apiVersion": "octi-tanium/v1",
            "kind": "IntelPolicy",
            "metadata": {"name": "everything"},
            "spec": {"select": {}, "target": {"intel": {}}},
        }
    )
    budget = {"deletionBudget": {"max": max_deletes, "maxPercent": 100}}
    return PolicySet(
        intel_policies=(Located(doc, Position("all.yaml", 1, 1)),),
        settings=SettingsSpec.model_validate(budget),
        revision="test",
    )


def objects(start: int, stop: int) -> list[SourceObject]:
    return [
        SourceObject(
            standard_id=f"indicator--{i:08x}-0000-4000-8000-000000000000",
            entity_type="Indicator",
            pattern=f"[domain-name:value = 'host{i}.review.example']",
            pattern_type="stix",
            name=f"indicator {i}",
            labels=("emotet",),
            score=50,
        )
        for i in range(start, stop)
    ]


def broken() -> list[SourceObject]:
    return [
        SourceObject(
            standard_id=f"indicator--{i:08x}-1111-4000-8000-000000000000",
            entity_type="Indicator",
            pattern=f"rule broken{i} {{ condition: }}",
            pattern_type="yara",
            name=f"broken {i}",
            score=50,
        )
        for i in range(BROKEN)
    ]


def owned(pol: PolicySet, objs: list[SourceObject]) -> ActualState:
    """Tanium as if it had applied `objs` (owned documents with their markers)."""
    desired = build_desired(pol, SourceSnapshot(objects=tuple(objs), snapshot_time=NOW), now=NOW)
    docs = [
        ActualIntel(
            id=TaniumId(n + 1),
            name=doc.name,
            description=doc.description,
            intel_type=doc.intel_type,
            intrinsic_id=doc.key,
            md5=doc.md5,
            revision_id=1,
            label_ids=(),
            source_id=TaniumId(1),
        )
        for n, doc in enumerate(desired.intel.values())
    ]
    return ActualState(source_id=TaniumId(1), source_name="bench", intel=tuple(docs))


@cache
def big_desired() -> tuple[DesiredState, ActualState]:
    """The pure pipeline's desired state for 19,400 objects and 25 broken ones, and a Tanium
    holding 600 owned documents no longer desired (computed once: ~5 s)."""
    pol = policies(100_000)
    source = SourceSnapshot(objects=(*objects(0, 19_400), *broken()), snapshot_time=NOW)
    return build_desired(pol, source, now=NOW), owned(pol, objects(19_400, 20_000))


def big_plan(max_deletes: int) -> Plan:
    """19,400 creates, 600 deletes (blocked when over `max_deletes`), 25 errors."""
    desired, actual = big_desired()
    return make_plan(
        desired, actual, settings=policies(max_deletes).settings, complete=True, now=NOW
    )


@pytest.mark.parametrize("max_deletes", [100_000, 10])
def test_twenty_thousand_changes_fit_one_comment_keeping_what_matters(max_deletes: int) -> None:
    plan = big_plan(max_deletes)
    s = plan.summary
    assert s.create + s.delete + s.blocked >= 20_000
    text = render_markdown(plan, title="abc1234", artifact="https://ci.example/run/1")

    assert len(text) <= DEFAULT_LIMIT
    first = text.splitlines()
    assert first[0] == "### octi-tanium plan for `abc1234`"
    assert "to create" in text.split("\n\n")[2]  # the summary right after the header
    if s.blocked:
        assert f"<b>Blocked by a safety guard</b> ({s.blocked:,})" in text
        assert "> [!CAUTION]" in text
    else:
        assert f"<b>Delete</b> ({s.delete:,})" in text
    assert f"<b>Create</b> ({s.create:,})" in text
    errors = [d for d in plan.diagnostics if d.severity == "error"]
    assert len(errors) == BROKEN
    for error in errors:
        assert f"`{error.key}`: {error.message}" in text
    assert "The full plan: https://ci.example/run/1." in text
    cut = re.search(r"([\d,]+) of ([\d,]+) detail lines are not shown", text)
    assert cut is not None and int(cut.group(1).replace(",", "")) > 0


def test_a_smaller_limit_is_honoured_and_a_plan_that_fits_is_not_cut() -> None:
    plan = big_plan(100_000)
    small = render_markdown(plan, limit=8_000)
    assert len(small) <= 8_000
    assert "detail lines are not shown" in small
    assert f"<b>Delete</b> ({plan.summary.delete:,})" in small


def test_items_are_grouped_by_policy_and_reason_when_they_record_origins() -> None:
    items = (
        PlanItem(
            action="delete",
            kind="intel",
            key="k1",
            reason="revoked",
            name="a",
            origins=Origins(objects=("x",), policies=("malware-hashes",)),
        ),
        PlanItem(
            action="delete",
            kind="intel",
            key="k2",
            reason="revoked",
            name="b",
            origins=Origins(objects=("y",), policies=("c2-domains",)),
        ),
        PlanItem(action="delete", kind="intel", key="k3", reason="expired", name="c"),
    )
    plan = Plan(items=items, summary=summarize(items))
    text = render_markdown(plan)
    assert "**policy c2-domains · revoked (1)**" in text
    assert "**policy malware-hashes · revoked (1)**" in text
    assert "**expired (1)**" in text
    assert "- intel     a  (k1)  ← malware-hashes · 1 OpenCTI object" in text
    # the summary's counts are the lines shown
    assert text.count("\n- intel ") == plan.summary.delete == 3


def test_the_comment_of_twenty_thousand_changes_matches_its_golden_file() -> None:
    """Byte-deterministic, and any change of it is deliberate (UPDATE_GOLDEN=1)."""
    from tests.test_scenario_renderings import matches_golden

    text = render_markdown(big_plan(10), title="abc1234", artifact="https://ci.example/run/1")
    matches_golden(Path(__file__).parents[1] / "golden" / "plan-20000-blocked.md", text)
