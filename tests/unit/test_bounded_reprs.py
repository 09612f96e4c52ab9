"""A pass's values print in a line, whatever their size.

On CPython 3.11, leaving `asyncio.run` builds the repr of the main task *with its result*
(restoring the SIGINT handler formats a `ValueError` with the runner's handler, which holds the
task). The command line's passes return an `Outcome` holding the whole desired state: with the
default reprs, that was ~4 s of pydantic reprs at 100,000 items after every `plan`, the largest
part of the pass's unexplained remainder (bench/RESULTS.md)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from controller.apply.report import ApplyReport, ItemResult
from controller.core.desired import build_desired
from controller.core.diff import make_plan
from controller.core.model import ActualState, DesiredIntel, SourceObject, SourceSnapshot
from controller.policy.models import SettingsSpec
from controller.reconcile import Outcome
from tests.unit.test_desired import ind, policies, policy

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def outcome(n: int) -> Outcome:
    objects = tuple(
        ind(i, f"[ipv4-addr:value = '10.{i // 65536}.{i // 256 % 256}.{i % 256}']")
        for i in range(n)
    )
    snapshot = SourceSnapshot(objects=objects)
    chosen = policies(policy())
    desired = build_desired(chosen, snapshot, now=NOW)
    actual = ActualState(source_id=None, source_name="octi-tanium")
    plan = make_plan(desired, actual, settings=SettingsSpec(), now=NOW)
    report = ApplyReport([ItemResult(item, "ok") for item in plan.items])
    return Outcome("apply", plan, report, actual, chosen, desired, snapshot)


def test_every_value_of_a_pass_prints_in_a_bounded_line() -> None:
    small, large = outcome(3), outcome(300)
    for name in ("plan", "report", "actual", "desired", "snapshot"):
        text = repr(getattr(large, name))
        assert len(text) < 200, (name, text[:300])
        assert len(text) - len(repr(getattr(small, name))) < 10, name
    assert len(repr(large)) < 400


def test_leaving_asyncio_run_never_prints_the_desired_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    printed: list[str] = []

    def counted(self: object) -> str:
        printed.append(type(self).__name__)
        return "…"

    made = outcome(50)
    monkeypatch.setattr(DesiredIntel, "__repr__", counted)
    monkeypatch.setattr(SourceObject, "__repr__", counted)

    async def a_pass() -> Outcome:
        return made

    assert asyncio.run(a_pass()) is made
    assert printed == []
