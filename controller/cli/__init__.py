"""The command line (`octi-tanium`, `python -m controller`): click commands (`commands`) and
the terminal UI (`progress`, the reports). The only package that prints."""

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn

from controller.cli import sightings as _sightings  # noqa: F401  (registers `sightings`)
from controller.cli.commands import Process, main

__all__ = ["entry", "main"]


def entry() -> NoReturn:
    """The console script and `python -m controller`: `main`, then an exit that does not free
    the heap object by object. A `plan` at 100,000 indicators ends holding ~600 MB of small
    objects, and letting the interpreter free them one by one took ~0.3 s of every such run
    (`bench/RESULTS.md`). The exit hooks still run (`atexit`: logging's flush, ...) and the
    standard streams are flushed; the kernel takes the memory back at once. A process with
    another thread still running exits the usual way (the interpreter joins it first).
    `main` itself (what tests invoke) is unchanged."""
    try:
        main(obj=Process(exits_after_command=True))
        code: object = 0
    except SystemExit as done:
        code = done.code
    status = _status(code)
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(status)


def _status(code: object) -> int:
    """A process status from `SystemExit.code`, as the interpreter reads it: None is 0, an
    int itself, anything else is printed to stderr and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
