"""`validate --format github`: each diagnostic as a GitHub Actions workflow command, so the
problems show on the pull request's diff at their file and line.

`::error file=F,line=L,col=C,title=T::message` — GitHub's escaping: in the message `%`, CR
and LF become `%25`, `%0D`, `%0A`; in a property also `:` and `,` (`%3A`, `%2C`)."""

from __future__ import annotations

from controller.core.diagnostics import Diagnostic
from controller.policy.loader import LoadResult

LEVEL = {"error": "error", "warning": "warning"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diag: Diagnostic) -> str:
    level = LEVEL.get(diag.severity, "notice")
    props = []
    if diag.file:
        props.append(f"file={_property(diag.file)}")
        if diag.line:
            props.append(f"line={diag.line}")
            if diag.col:
                props.append(f"col={diag.col}")
    props.append(f"title={_property('octi-tanium validate')}")
    message = diag.message
    if diag.detail:
        message = f"{message}\n{diag.detail}"
    return f"::{level} {','.join(props)}::{_data(message)}"


def format_github(result: LoadResult) -> str:
    """One workflow command per diagnostic, then the summary line (no final newline)."""
    from controller.policy.validate import format_text

    summary = format_text(result).rsplit("\n\n", 1)[-1]
    return "\n".join([*(annotation(d) for d in result.diagnostics), summary])
