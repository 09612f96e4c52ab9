"""Positions in round-trip YAML: where a key or value sits, and the snippet that shows it.

ruamel.yaml's round-trip loader keeps the line and column of every key, value and list item
(0-based); everything here returns 1-based `Position`s, the way editors count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from controller.core.diagnostics import Position
from controller.policy.bounds import Bound, check_events

Loc = tuple[str | int, ...]
_DOC_START = re.compile(r"^---(?:[ \t]|$)")


@dataclass(frozen=True)
class RawDocument:
    """One YAML document of a file, or the syntax error that stopped it."""

    node: Any
    error: Position | None = None
    problem: str = ""
    line: int = 1
    """The first line of the piece of the file the document was read from."""


def documents(path: Path, text: str) -> Iterator[RawDocument]:
    """Every document of a multi-document file; a syntax error spoils one document only.

    The file is cut at `---` lines and each piece is parsed on its own, padded with blank
    lines so that positions stay those of the whole file.
    """
    lines = text.splitlines(keepends=True)
    if any(line.startswith("%") for line in lines):  # directives: parse the file as a whole
        starts = [0]
    else:
        starts = [0] + [i for i, line in enumerate(lines) if i and _DOC_START.match(line)]
    seen = 0
    for first, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        piece = "\n" * first + "".join(lines[first:end])
        try:
            seen = check_events(path, piece, seen)
        except Bound as exc:
            yield RawDocument(None, exc.position, exc.problem)
            if "documents in one file" in exc.problem:
                return
            continue
        yaml = YAML(typ="rt")
        try:
            loaded = list(yaml.load_all(piece))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = Position(
                str(path), (mark.line + 1) if mark else first + 1, (mark.column + 1) if mark else 1
            )
            problem = str(exc.problem or exc.context or "syntax error")
            context = exc.context_mark
            if exc.context and exc.problem and context is not None:
                problem += (
                    f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
                )
            elif exc.context and exc.problem:
                problem += f" ({exc.context})"
            yield RawDocument(None, pos, problem)
            continue
        body = next((i for i in range(first, end) if _content(lines[i])), first)
        for node in loaded:
            if node is not None:
                yield RawDocument(node, line=body + 1)


def _content(line: str) -> bool:
    text = line.strip()
    return bool(text) and not text.startswith("#") and not _DOC_START.match(line)


def plain(node: Any) -> Any:
    """Round-trip YAML → plain Python (dates become ISO strings, as in JSON)."""
    if isinstance(node, CommentedMap):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [plain(v) for v in node]
    if isinstance(node, datetime):
        return datetime(*node.timetuple()[:6], node.microsecond, tzinfo=node.tzinfo).isoformat()
    if isinstance(node, date):
        return node.isoformat()
    return node


def node_position(path: Path, node: Any) -> Position | None:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return None
    return Position(str(path), lc.line + 1, lc.col + 1)


def key_position(path: Path, node: Any, key: str, *, value: bool) -> Position | None:
    if not isinstance(node, CommentedMap):
        return None
    try:
        line, col = node.lc.value(key) if value else node.lc.key(key)
    except (KeyError, TypeError):
        return None
    return Position(str(path), line + 1, col + 1)


def locate(path: Path, root: Any, loc: Sequence[str | int], *, key: bool = False) -> Position:
    """Follow `loc` (camelCase keys, list indexes) through the YAML tree to a position.

    Points at the value of the last part found, or at its key when `key` is true and the
    whole of `loc` was found. A part that is absent leaves the position at the deepest
    part that exists.
    """
    node: Any = root
    best = node_position(path, root) or Position(str(path), 1, 1)
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
            best = key_position(path, node, part, value=not (last and key)) or best
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            try:
                line, col = node.lc.item(part)
                best = Position(str(path), line + 1, col + 1)
            except (KeyError, TypeError):
                pass
            node = node[part]
        else:
            break
    return best


def snippet(lines: Sequence[str], pos: Position) -> str:
    """The source line with a caret under the column."""
    if not 0 < pos.line <= len(lines):
        return ""
    text = lines[pos.line - 1].rstrip("\r\n")
    return f"{pos.line:>4} | {text}\n     | {' ' * (pos.col - 1)}^"
