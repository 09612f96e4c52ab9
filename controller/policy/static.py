"""StaticIntel content: read it from Git, and check it the way Tanium will.

A `file` is relative to the policy file and must stay inside the policy folder: a policy in a
pull request must not be able to pull `/proc/self/environ` into a plan.

YARA, Signals and STIX patterns get their verdict from `controller.render.check`, the checker
`plan` uses too; this module only says where in the policy the problem is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from controller.policy.checks import Finding, Loc
from controller.policy.models import HASH_LENGTHS, StaticIntel, hash_problem
from controller.render.check import ContentType, check_content

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
    if doc.spec.type == "hashes":
        return list(_hash_lines(content, where, at))
    return content_findings(doc.spec.type, content, where, at)


def content_findings(content_type: ContentType, content: str, where: str, at: Loc) -> list[Finding]:
    """The checker's verdict on `content` (held in `where`: a file, or `content`) as findings."""
    verdict = check_content(content_type, content)
    findings: list[Finding] = []
    for problem in verdict.problems:
        error = problem.severity == "error"
        if content_type == "yara":
            place = f"line {problem.line} of {where}" if problem.line else where
            rule = f"rule '{problem.rule}', " if problem.rule else ""
            head = "YARA does not compile" if error else "YARA"
            message = f"{head}: {rule}{place}: {problem.message}"
        elif content_type == "tanium-signal":
            message = f"Tanium Signal in {where} is invalid: {problem.message}"
        else:
            message = f"STIX pattern in {where} is invalid: {problem.message}"
        detail = f"{where}, line {problem.line}: {problem.text}" if problem.text else ""
        findings.append(Finding(problem.severity, message, at, key=True, detail=detail))
    return findings


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
