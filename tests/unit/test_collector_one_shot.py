"""`exit_soon`: a process that exits after its one pass freezes what a pause leaves instead of
walking it; only the console script's `plan` and `apply` ask for it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from controller import collector
from controller.cli.commands import Process, main
from tests.e2e.harness import NO_REAL_BACKOFF, TOKEN, tanium_sandbox
from tests.run.harness import domains, policies, write_bundle


@pytest.fixture(autouse=True)
def thawed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(collector, "_freeze_on_resume", False)  # restored after each test
    gc.enable()
    yield
    gc.unfreeze()  # the other tests' collector as they expect it
    gc.enable()


class Node:
    def __init__(self) -> None:
        self.me = self


def _walked() -> set[int]:
    return {id(o) for generation in range(3) for o in gc.get_objects(generation)}


def test_what_a_pause_leaves_is_frozen_once_the_process_exits_soon() -> None:
    collector.exit_soon()
    with collector.paused():
        assert not gc.isenabled()
        kept = [Node() for _ in range(100)]
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    assert not {id(o) for o in kept} & _walked()


def test_without_it_a_pause_leaves_everything_to_the_collector() -> None:
    with collector.paused():
        kept = [Node() for _ in range(100)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert {id(o) for o in kept} <= _walked()


def test_a_pause_inside_a_pause_freezes_only_when_the_last_one_ends() -> None:
    collector.exit_soon()
    with collector.paused():
        with collector.paused():
            pass
        assert gc.get_freeze_count() == 0
        assert not gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_a_collector_off_before_the_pause_stays_off_and_nothing_is_frozen() -> None:
    collector.exit_soon()
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize(("process", "frozen"), [(Process(exits_after_command=True), True),
                                                 (None, False)])  # fmt: skip
def test_plan_asks_for_it_only_from_the_console_script(
    tmp_path: Path, process: Process | None, frozen: bool
) -> None:
    bundle = write_bundle(tmp_path / "bundle.json", domains(3))
    folder = policies(tmp_path / "policies")
    with tanium_sandbox() as box:
        env = {"TANIUM_URL": box.url, "TANIUM_TOKEN": TOKEN, **NO_REAL_BACKOFF}
        args = ["plan", "--policies", str(folder), "--source", f"bundle:{bundle}"]
        result = CliRunner().invoke(main, args, env=env, obj=process, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert collector._freeze_on_resume is frozen
