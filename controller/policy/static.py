"""StaticIntel content: read it from Git, and check it the way Tanium will.

A `file` is relative to the policy file and must stay inside the policy folder: a policy in a
pull request must not be able to pull `/proc/self/environ` into a plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.policy.checks import Finding, Loc
from controller.policy.models import HASH_LENGTHS, PLATFORMS, StaticIntel, hash_problem
from controller.policy.signal_check import check_signal
from controller.policy.yara_check import check_yara

MAX_STATIC_BYTES = 4 * 1024 * 1024
_MAX_HASH_ERRORS = 20


@dataclass(frozen=True)
class Read:
    content: str | None
    problem: str = ""
    detail: str = ""


def read_static(policy_file: Path, base: Path, relative: str) -> Read:
    """Read `relative` (a StaticIntel `file`) next to `policy_file`, inside `base`."""
    if Path(relative).is_absolute() or relative.startswith("~"):
        return Read(
            None, f"{relative} is not a relative path", "give the path relative to the policy file"
        )
    target = (policy_file.parent / relative).resolve()
    inside = base.resolve()
    if not target.is_relative_to(inside):
        return Read(
            None,
            f"{relative} is outside the policy folder {base}",
            "keep static intel files inside the policy folder",
        )
    try:
        if target.stat().st_size > MAX_STATIC_BYTES:
            return Read(None, f"{relative} is larger than {MAX_STATIC_BYTES // 1024 // 1024} MiB")
        raw = target.read_bytes()
    except IsADirectoryError:
        return Read(None, f"cannot read {relative}: it is a directory")
    except OSError as exc:
        return Read(
            None,
            f"cannot read {relative}: {exc.strerror or exc}",
            "the path is relative to the policy file",
        )
    try:
        return Read(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Read(None, f"{relative} is not UTF-8 text (byte {exc.start}, line {line})")


def content_loc(doc: StaticIntel) -> Loc:
    return ("spec", "file") if doc.spec.file is not None else ("spec", "content")


def check_static(doc: StaticIntel, content: str) -> list[Finding]:
    """Errors and warnings about the content of one StaticIntel."""
    where = doc.spec.file or "content"
    at = content_loc(doc)
    if doc.spec.type == "yara":
        return list(_yara(content, where, at))
    if doc.spec.type == "tanium-signal":
        return list(_signal(content, where, at))
    return list(_hash_lines(content, where, at))


def _yara(content: str, where: str, at: Loc) -> Iterator[Finding]:
    for problem in check_yara(content):
        place = f"line {problem.line} of {where}" if problem.line else where
        rule = f"rule '{problem.rule}', " if problem.rule else ""
        head = "YARA does not compile" if problem.severity == "error" else "YARA"
        yield Finding(
            problem.severity,
            f"{head}: {rule}{place}: {problem.message}",
            at,
            key=True,
            detail=f"{where}, line {problem.line}: {problem.text}" if problem.text else "",
        )


def _signal(content: str, where: str, at: Loc) -> Iterator[Finding]:
    text = content.strip()
    if text.startswith("{"):
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Finding(
                "error",
                f"Tanium Signal in {where} is not valid JSON: "
                f"{exc.msg} (line {exc.lineno}, column {exc.colno})",
                at,
                key=True,
            )
            return
        problem = _signal_document(data)
        if problem:
            yield Finding("error", f"Tanium Signal in {where}: {problem}", at, key=True)
            return
        text = data["contents"]
    problem = check_signal(text)
    if problem:
        yield Finding("error", f"Tanium Signal in {where} is invalid: {problem}", at, key=True)


def _signal_document(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "the JSON must be an object with `name` and `contents`"
    contents = data.get("contents")
    if not isinstance(contents, str) or not contents.strip():
        return "`contents` (the signal expression) is missing or empty"
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            return f"`{key}` must be a string"
    platforms = data.get("platforms", [])
    if not isinstance(platforms, list) or any(p not in PLATFORMS for p in platforms):
        return f"`platforms` must be a list of: {', '.join(PLATFORMS)}"
    return None


def hash_lines(content: str) -> Iterator[tuple[int, str]]:
    """(line number, text) for each hash line of a hash list: one hash a line, `#` comments."""
    for number, line in enumerate(content.splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            yield number, text


def _hash_lines(content: str, where: str, at: Loc) -> Iterator[Finding]:
    bad = [(n, problem) for n, value in hash_lines(content) if (problem := hash_problem(value))]
    for number, problem in bad[:_MAX_HASH_ERRORS]:
        yield Finding("error", f"line {number} of {where}: {problem}", at, key=True)
    if len(bad) > _MAX_HASH_ERRORS:
        yield Finding(
            "error", f"{where}: {len(bad) - _MAX_HASH_ERRORS} more invalid hash lines", at, key=True
        )


def static_hashes(doc: StaticIntel, content: str | None) -> tuple[str, ...]:
    """The hashes of a `type: hashes` StaticIntel: inline ones, then those of its content.

    Lower-cased, invalid lines left out (they fail `validate`), first occurrence kept.
    """
    seen: dict[str, None] = {}
    values = list(doc.spec.hashes)
    if content is not None:
        values.extend(value for _, value in hash_lines(content))
    for value in values:
        if hash_problem(value) is None and len(value) in HASH_LENGTHS:
            seen.setdefault(value.lower(), None)
    return tuple(seen)
