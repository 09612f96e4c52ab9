"""One writer at a time: a file lock (flock), released when the process dies."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from controller.errors import OctiTaniumError


class LockBusy(OctiTaniumError):
    """Another octi-tanium is writing to Tanium from this host: wait for it to finish."""


def lock_path() -> Path:
    """`$OCTI_TANIUM_STATE_DIR/lock`, by default under the user's state directory (not the
    working directory, so two runs from different folders still exclude each other)."""
    base = os.environ.get("OCTI_TANIUM_STATE_DIR")
    if base:
        return Path(base) / "lock"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "octi-tanium" / "lock"


@contextlib.contextmanager
def file_lock(path: Path | None = None) -> Iterator[None]:
    path = path or lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockBusy(
                f"another octi-tanium is applying to Tanium (lock {path} is held); "
                "wait for it to finish"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
