"""Log lines of the reconciler: one line per record, JSON or text, a pass id on every line of
a pass, never a secret; ours always, library chatter only from WARNING up.

`--log-format json|text` (default: json when stderr is not a terminal). A JSON line holds
`time`, `level`, `logger`, `message`, `pass` (when inside a pass) and `exc` (a traceback,
one string). Text lines escape newlines, so a multi-line message stays one line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

LogFormat = Literal["json", "text"]
PASS_ID: ContextVar[str | None] = ContextVar("octi_tanium_pass_id", default=None)
SECRET_VARIABLES = ("TANIUM_TOKEN", "OPENCTI_TOKEN", "GITHUB_TOKEN")


@contextlib.contextmanager
def pass_context() -> Iterator[str]:
    """A new pass id (8 hex digits) on every log line until the block ends."""
    pass_id = secrets.token_hex(4)
    reset = PASS_ID.set(pass_id)
    try:
        yield pass_id
    finally:
        PASS_ID.reset(reset)


def _secrets() -> list[str]:
    """Values that must never reach a log line: tokens and the lock store's password."""
    found = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    password = urlsplit(os.environ.get("OCTI_TANIUM_LOCK_URL", "")).password
    found.append(password or "")
    return [s for s in found if len(s) >= 4]


def scrub(text: str) -> str:
    for secret in _secrets():
        text = text.replace(secret, "***")
    return text


class _QuietLibraries(logging.Filter):
    """Library chatter (each HTTP request) only from WARNING up; our own lines always."""

    NOISY = ("httpx", "httpcore", "apscheduler", "uvicorn")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.name.startswith(self.NOISY)


class OneLine(logging.Formatter):
    """A record as one line of JSON or of text, with the pass id, secrets scrubbed."""

    def __init__(self, fmt: LogFormat) -> None:
        super().__init__()
        self.fmt = fmt

    def format(self, record: logging.LogRecord) -> str:
        message = scrub(record.getMessage())
        exc = scrub(self.formatException(record.exc_info)) if record.exc_info else None
        pass_id = PASS_ID.get()
        when = datetime.fromtimestamp(record.created, UTC)
        if self.fmt == "json":
            line: dict[str, str] = {
                "time": when.isoformat(timespec="milliseconds"),
                "level": record.levelname,
                "logger": record.name,
                "message": message,
            }
            if pass_id:
                line["pass"] = pass_id
            if exc:
                line["exc"] = exc
            return json.dumps(line, ensure_ascii=False)
        text = f"{when.isoformat(timespec='seconds')} {record.levelname}"
        if pass_id:
            text += f" pass={pass_id}"
        text += f" {message}"
        if exc:
            text += f" | {exc}"
        return text.replace("\r", "").replace("\n", "\\n")


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (tests swap it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def default_format() -> LogFormat:
    """JSON when stderr is not a terminal (a container, a service), else text."""
    return "text" if sys.stderr.isatty() else "json"


def configure_logging(fmt: LogFormat | None = None) -> logging.Handler:
    """One handler on the root logger (re-configured, never doubled); returned, so that a
    command run in-process (tests) can remove it when it ends (`logging_to_stderr`)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _Stderr):
            root.removeHandler(handler)
    handler = _Stderr()
    handler.setFormatter(OneLine(fmt or default_format()))
    handler.addFilter(_QuietLibraries())
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    return handler


@contextlib.contextmanager
def logging_to_stderr(fmt: LogFormat | None = None) -> Iterator[None]:
    """`configure_logging` for the length of a command."""
    handler = configure_logging(fmt)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
