"""Bounds on the YAML a policy file may hold, checked before anything is built from it.

`validate` and offline `plan` run on pull requests from anyone, so a hostile file must fail
fast with a clear error rather than keep the runner busy: a "billion laughs" of nested aliases
(nine levels of ten: 10⁹ values once expanded), a nesting thousands of levels deep, a
multi-megabyte file, a file of thousands of documents. Policies have no use for any of them:

- aliases (`*name`) are refused — write the value out (anchors alone are harmless);
- nesting deeper than `MAX_DEPTH` collections is refused;
- a file larger than `MAX_FILE_BYTES` is not parsed;
- a file of more than `MAX_DOCUMENTS` documents is refused.

The check reads the parser's event stream, which costs time linear in the (bounded) file size
and never composes a node.
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
)

from controller.core.diagnostics import Position

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32
MAX_DOCUMENTS = 500


class Bound(Exception):
    """A bound a piece of YAML exceeds: where, and what to do."""

    def __init__(self, position: Position, problem: str) -> None:
        super().__init__(problem)
        self.position = position
        self.problem = problem


def file_too_large(path: Path, size: int) -> str | None:
    if size <= MAX_FILE_BYTES:
        return None
    return (
        f"the file is {size:,} bytes; a policy file may hold at most {MAX_FILE_BYTES:,}: "
        "split it into several files"
    )


def check_events(path: Path, text: str, documents_before: int = 0) -> int:
    """Raise `Bound` at the first alias, over-deep nesting or document too many; the number
    of documents read. A syntax error is left to the loader, which reports it."""
    depth = 0
    count = documents_before
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, AliasEvent):
                raise Bound(
                    _where(path, event),
                    f"YAML alias *{event.anchor} is not allowed in a policy: write the value "
                    "out (aliases can expand a small file into billions of values)",
                )
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise Bound(
                        _where(path, event),
                        f"nested deeper than {MAX_DEPTH} levels: a policy never needs this",
                    )
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
            elif isinstance(event, DocumentStartEvent):
                count += 1
                if count > MAX_DOCUMENTS:
                    raise Bound(
                        _where(path, event),
                        f"more than {MAX_DOCUMENTS} documents in one file: split it",
                    )
    except MarkedYAMLError:
        pass
    return count


def _where(path: Path, event: object) -> Position:
    mark = getattr(event, "start_mark", None)
    if mark is None:
        return Position(str(path), 1, 1)
    return Position(str(path), mark.line + 1, mark.column + 1)
