"""The real-world corpus in `tests/corpus/` (origins and licences: tests/corpus/README.md).

Tests that need a corpus file ask for it here: a missing file fails *that test* with a message
naming the file and what to do, never the collection of the whole suite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parent / "corpus"
MISSING = "(corpus missing)"


def corpus_file(relative: str) -> Path:
    """The path of one corpus file; fails the calling test when it is not there."""
    path = CORPUS / relative
    if not path.is_file():
        pytest.fail(
            f"corpus file tests/corpus/{relative} is missing: restore it from git "
            "(`git checkout -- tests/corpus`); tests/corpus/README.md lists every file's origin",
            pytrace=False,
        )
    return path


def corpus_json(relative: str) -> Any:
    return json.loads(corpus_file(relative).read_text(encoding="utf-8"))


def corpus_names(folder: str, *patterns: str) -> list[str]:
    """Paths (relative to the corpus) of the files in `folder` matching `patterns`, for
    parametrisation; a placeholder when there are none, so that the test runs and fails."""
    root = CORPUS / folder
    found = sorted(
        {p.relative_to(CORPUS).as_posix() for pattern in patterns for p in root.rglob(pattern)}
    )
    return found or [MISSING]


def require(relative: str) -> Path:
    """`corpus_file` for a parametrised name, turning the placeholder into a clear failure."""
    if relative == MISSING:
        pytest.fail("no corpus files under tests/corpus/: restore them from git", pytrace=False)
    return corpus_file(relative)
