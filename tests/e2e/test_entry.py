"""The console script's exit (`controller.cli.entry`): it skips freeing the heap object by
object, so these check what must still happen through the real command line — every byte of
a large output reaches a pipe, the exit code is the command's, exit hooks run, a message
given to `sys.exit` is printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from controller.cli import _status
from tests.e2e.harness import TOKEN, tanium_sandbox
from tests.run.harness import domains, policies, write_bundle


def python(
    code: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_large_plan_reaches_the_pipe_whole_with_the_commands_exit_code(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "bundle.json", domains(400))
    folder = policies(tmp_path / "policies")
    with tanium_sandbox() as box:
        done = subprocess.run(
            [sys.executable, "-m", "controller", "plan", "--policies", str(folder),
             "--source", f"bundle:{bundle}", "--format", "json", "--detailed-exitcode"],
            env={**os.environ, "TANIUM_URL": box.url, "TANIUM_TOKEN": TOKEN},
            cwd=tmp_path, capture_output=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr.decode()[-2000:]
    plan = json.loads(done.stdout)  # the whole document: cut short, it would not parse
    creates = [i for i in plan["items"] if i["action"] == "create" and i["kind"] == "intel"]
    assert len(creates) == 400
    assert len(done.stdout) > 200_000  # more than a pipe's buffer: written through to the end


def test_exit_hooks_run_and_buffered_output_is_flushed() -> None:
    code = (
        "import atexit, sys\n"
        "from controller.cli import entry\n"
        "atexit.register(lambda: print('hook ran'))\n"
        "sys.stdout.write('buffered, no newline')\n"
        "sys.argv = ['octi-tanium', '--help']\n"
        "entry()\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("buffered, no newline")
    assert "Usage:" in done.stdout
    assert done.stdout.rstrip().endswith("hook ran")


def test_a_failing_command_keeps_its_code_and_message(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [sys.executable, "-m", "controller", "validate", "--policies", str(missing)],
        env=dict(os.environ), cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "does not exist" in done.stdout  # `validate` reports on stdout


def test_a_running_thread_is_joined_before_the_exit() -> None:
    code = (
        "import sys, threading, time\n"
        "from controller.cli import entry\n"
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    print('thread done', flush=True)\n"
        "threading.Thread(target=late).start()\n"
        "sys.argv = ['octi-tanium', '--version']\n"
        "entry()\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert "thread done" in done.stdout


@pytest.mark.parametrize(
    ("code", "status", "printed"),
    [(None, 0, ""), (0, 0, ""), (3, 3, ""), ("went wrong", 1, "went wrong\n")],
)
def test_status_reads_system_exit_as_the_interpreter_does(
    code: object, status: int, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _status(code) == status
    assert capsys.readouterr().err == printed


def test_the_command_line_loads_graphql_only_for_the_commands_that_ask_opencti() -> None:
    """Start-up is part of every `plan`: graphql-core (the OpenCTI schema checks) is loaded
    when a command talks to OpenCTI, not by the command line itself."""
    code = (
        "import sys\n"
        "import controller.cli, controller.reconcile, controller.sources.bundle\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'graphql'}))\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
