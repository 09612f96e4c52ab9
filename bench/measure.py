"""Run a command and measure it as `/usr/bin/time -v` would: wall time, peak RSS, exit code.

The command is forked from a small launcher process, not from the benchmark itself: on Linux
a child's `ru_maxrss` starts at the high-water mark of the memory it was forked with (`exec`
keeps it), so a command forked straight from a benchmark holding hundreds of MiB would report
the benchmark's peak as its own. The launcher (a bare Python, ~10 MiB) forks, execs the
command, and reports `wait4`'s figures for it alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvpe(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "maxrss_kib": usage.ru_maxrss,
               "exit_code": os.waitstatus_to_exitcode(status)}, out)
"""


@dataclass(frozen=True)
class Measured:
    wall: float
    """Seconds from fork to exit (interpreter start-up and imports included)."""
    rss_mib: float
    """The command's peak resident set size, MiB."""
    exit_code: int


def run_measured(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout: IO[bytes] | int | None = None,
    stderr: IO[bytes] | int | None = None,
) -> Measured:
    """Run `command` to its end through the launcher; its output goes to `stdout`/`stderr`."""
    with tempfile.NamedTemporaryFile(prefix="bench-measure-", suffix=".json") as report:
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, report.name, *command],
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            check=True,
        )
        data = json.loads(Path(report.name).read_text(encoding="utf-8"))
    return Measured(float(data["wall"]), data["maxrss_kib"] / 1024, int(data["exit_code"]))
