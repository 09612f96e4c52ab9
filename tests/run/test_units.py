"""The pieces of `run` on their own: change windows and jitter, pass outcomes, log lines,
the `lock` commands, `apply --lock-timeout`, and the schedule's validation."""

from __future__ import annotations

import io
import json
import logging
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller.cli import main
from controller.core.plan import Guard, Plan, PlanItem
from controller.core.reasons import Reason
from controller.lease import Target, acquire
from controller.policy.models import ChangeWindow, Schedule
from controller.policy.validate import validate
from controller.reconcile import Outcome
from controller.run.logs import OneLine, pass_context
from controller.run.outcome import classify
from controller.run.windows import next_delay, window_open, writes_allowed
from tests.e2e.harness import tanium_sandbox
from tests.run.harness import domains, policies, write_bundle

MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- windows


def test_a_window_is_open_from_each_cron_start_for_its_duration() -> None:
    weekdays = ChangeWindow(cron="0 6 * * 1-5", duration="12h")
    assert window_open(weekdays, MONDAY_NOON)
    assert not window_open(weekdays, MONDAY_NOON + timedelta(hours=6))  # 18:00: closed
    assert not window_open(weekdays, MONDAY_NOON - timedelta(days=1))  # Sunday
    paris = ChangeWindow(cron="0 13 * * *", duration="1h", timezone="Europe/Paris")
    assert window_open(paris, MONDAY_NOON)  # 13:00 in Paris is 12:00 UTC in November
    assert writes_allowed(Schedule(), MONDAY_NOON), "no windows: always"
    night = Schedule(windows=[ChangeWindow(cron="0 1 * * *", duration="2h")])
    assert not writes_allowed(night, MONDAY_NOON)
    sunday = ChangeWindow(cron="0 0 * * 0", duration="1d")  # crontab's Sunday, not Monday
    assert window_open(sunday, MONDAY_NOON - timedelta(days=1))
    assert not window_open(sunday, MONDAY_NOON)


def test_the_next_pass_waits_the_interval_plus_some_jitter() -> None:
    rng = random.Random(7)
    waits = {next_delay(Schedule(interval="10m", jitter="1m"), rng) for _ in range(50)}
    assert all(timedelta(minutes=10) <= w <= timedelta(minutes=11) for w in waits)
    assert len(waits) > 1
    assert next_delay(Schedule(interval="10m")) == timedelta(minutes=10)


def test_a_bad_cron_or_time_zone_is_a_policy_error_with_its_position(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text(
        "apiVersion: octi-tanium/v1\nkind: Settings\nmetadata: {name: s}\nspec:\n"
        "  schedule:\n    windows:\n    - {cron: '0 25 * * *', duration: 1h, timezone: Mars/Base}\n"
    )
    result = validate(tmp_path)
    errors = [d.text() for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 2, errors
    assert any("settings.yaml:7:" in e and "crontab" in e for e in errors), errors
    assert any("Mars/Base" in e for e in errors), errors


# --------------------------------------------------------------------------- outcomes


def _plan(*items: PlanItem, complete: bool = True, budget: bool = True) -> Plan:
    guards = (
        Guard(name="complete", ok=complete, detail="OpenCTI: connection failed"),
        Guard(name="deletion-budget", ok=budget, detail="budget"),
    )
    return Plan(items=items, guards=guards)


def test_an_incomplete_source_is_a_failed_pass_whatever_else_happened() -> None:
    delete = PlanItem(
        action="delete", kind="intel", key="k", reason=Reason.SOURCE_INCOMPLETE, blocked=True
    )
    result = classify(Outcome("apply", _plan(delete, complete=False)), source="OpenCTI at http://o")
    assert (result.outcome, result.exit_code, result.success, result.failure) == (
        "failed",
        3,  # it withheld a delete: `apply` would exit 3 too
        False,
        True,
    )
    assert result.message.startswith("OpenCTI at http://o answered incompletely: ")
    assert "connection failed" in result.message
    nothing_held = classify(Outcome("apply", _plan(complete=False)))
    assert (nothing_held.outcome, nothing_held.exit_code) == ("failed", 1), "never looks fine"


def test_outcomes_of_complete_passes() -> None:
    create = PlanItem(action="create", kind="intel", key="k", reason=Reason.NEW)
    blocked = PlanItem(
        action="delete", kind="intel", key="k2", reason=Reason.OUT_OF_SCOPE, blocked=True
    )
    assert classify(Outcome("apply", _plan())).outcome == "ok"
    assert classify(Outcome("apply", _plan())).success
    held = classify(Outcome("apply", _plan(blocked, budget=False)))
    assert (held.outcome, held.exit_code, held.success, held.failure) == (
        "blocked",
        3,
        False,
        False,
    )
    later = classify(Outcome("plan", _plan(create)), window_open=False)
    assert (later.outcome, later.exit_code, later.success) == ("deferred", 0, False)


# --------------------------------------------------------------------------- logs


def _record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("octi_tanium.x", level, __file__, 1, message, None, None)


def test_json_lines_carry_the_pass_id_and_never_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANIUM_TOKEN", "s3cret-token")
    with pass_context() as pass_id:
        line = OneLine("json").format(_record("oops s3cret-token\nsecond line"))
    data = json.loads(line)
    assert "\n" not in line
    assert data["pass"] == pass_id and data["level"] == "INFO"
    assert data["message"] == "oops ***\nsecond line"
    outside = json.loads(OneLine("json").format(_record("idle")))
    assert "pass" not in outside


def test_text_lines_are_one_line_each() -> None:
    try:
        raise ValueError("boom\nmore")
    except ValueError:
        import sys

        record = _record("failed\nbadly", logging.ERROR)
        record.exc_info = sys.exc_info()
    with pass_context() as pass_id:
        text = OneLine("text").format(record)
    assert "\n" not in text
    assert f"ERROR pass={pass_id} failed\\nbadly | Traceback" in text


# --------------------------------------------------------------------------- lock CLI


def test_lock_status_and_release_with_the_file_lock() -> None:
    runner = CliRunner()
    empty = runner.invoke(main, ["lock", "status", "--format", "json"])
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.output)["leases"] == []
    lease = acquire(Target.of("https://tanium.example.com", "src"), timeout=0, ttl=30)
    try:
        shown = runner.invoke(main, ["lock", "status"])
        assert shown.exit_code == 0
        assert lease.holder in shown.output and "https://tanium.example.com" in shown.output
        listed = json.loads(runner.invoke(main, ["lock", "status", "--format", "json"]).output)
        assert [row["holder"] for row in listed["leases"]] == [lease.holder]
        released = runner.invoke(main, ["lock", "release", lease.holder])
        assert released.exit_code == 0 and "released the lease" in released.output
        assert lease.lost is None  # it learns at its next check
        with pytest.raises(Exception, match="lost the lease"):
            lease.check()
    finally:
        lease.release()
    unknown = runner.invoke(main, ["lock", "release", "nobody"])
    assert unknown.exit_code == 1
    assert "no lease held by or keyed 'nobody'" in unknown.output


def test_apply_waits_lock_timeout_then_names_the_holder(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b.json", domains(2))
    folder = policies(tmp_path / "policies")
    with tanium_sandbox() as box:
        other = acquire(Target.of(box.url, "OpenCTI (octi-tanium)"), timeout=0, ttl=30)
        try:
            args = ["apply", "--auto-approve", "--policies", str(folder)]
            args += ["--source", f"bundle:{bundle}", "--lock-timeout", "0.3"]
            busy = box.cli(args)
        finally:
            other.release()
        assert busy.code == 1, busy.output
        assert f"another octi-tanium ({other.holder}) holds the lease" in busy.output
        assert "after waiting 0.3 s" in busy.output
        assert box.state()["intels"] == []
        done = box.cli(args)
        assert done.code == 0, done.output
        assert len(box.state()["intels"]) == 2


def test_a_lock_timeout_that_is_not_a_duration_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["apply", "--lock-timeout", "soon"])
    assert result.exit_code == 1
    assert "'soon' is not a duration" in result.output


def test_log_format_is_json_when_stderr_is_not_a_terminal() -> None:
    from controller.run.logs import default_format

    assert default_format() == "json"  # pytest captures stderr
    assert isinstance(io.StringIO(), io.StringIO)


def test_the_next_pass_follows_the_schedule_the_last_pass_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from controller.run.outcome import PassResult
    from controller.run.scheduler import Reconciler
    from controller.run.service import Service

    monkeypatch.setenv("OCTI_TANIUM_LOCK_TTL", "30")
    reconciler = Reconciler(Path("policies"), "opencti")

    async def delays() -> list[timedelta]:
        service = Service(reconciler)
        reconciler.schedule = Schedule(interval="1h")
        first = service.delay()
        reconciler.last = PassResult("standby", 1, "another replica leads")
        return [first, service.delay()]

    assert asyncio.run(delays()) == [timedelta(hours=1), timedelta(seconds=10)]
