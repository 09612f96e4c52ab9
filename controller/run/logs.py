"""Log lines of the reconciler: ours always, library chatter only from WARNING up."""

from __future__ import annotations

import logging
import sys


class _QuietLibraries(logging.Filter):
    """Library chatter (each HTTP request) only from WARNING up; our own lines always."""

    NOISY = ("httpx", "httpcore", "apscheduler", "uvicorn")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.name.startswith(self.NOISY)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (tests swap it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def configure_logging() -> None:
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(_QuietLibraries())
    root = logging.getLogger()
    if not any(isinstance(f, _QuietLibraries) for h in root.handlers for f in h.filters):
        root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
