"""The repository stands alone: nothing in it reads a file outside it, and its docs link only
to files inside it. A fresh clone is all a user, a packager or another CI has."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\.\./" + "shared|" + r"\bshared/" + r"(corpus|opencti|tanium-api|DESIGN)")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")
# Documents that explain where copied material came from may name its origin.
ORIGIN_NOTES = {"tests/corpus/README.md", "docs/corpus.md"}


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):  # an unpacked tarball: walk the tree
        names = [
            p.relative_to(ROOT).as_posix()
            for p in ROOT.rglob("*")
            if p.is_file() and not {".git", ".venv"} & set(p.relative_to(ROOT).parts)
        ]
    return [ROOT / n for n in names if (ROOT / n).is_file()]


def test_no_file_of_the_repository_reaches_outside_it() -> None:
    offenders = []
    for path in tracked_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative in ORIGIN_NOTES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [
            f"{relative}:{n}: {line.strip()}"
            for n, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line)
        ]
    assert offenders == []


def test_every_relative_link_of_the_docs_points_into_the_repository() -> None:
    broken = []
    for path in tracked_files():
        if path.suffix != ".md":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for target in LINK.findall(line):
                if "://" in target or target.startswith("mailto:"):
                    continue
                resolved = (path.parent / target).resolve()
                if not resolved.is_relative_to(ROOT) or not resolved.exists():
                    broken.append(f"{path.relative_to(ROOT)}:{n}: {target}")
    assert broken == []


def test_the_pattern_recognises_a_path_outside_the_repository() -> None:
    assert OUTSIDE.search("CORPUS = ROOT.parent / '" + "../" + "shar" + "ed/corpus'")
    assert OUTSIDE.search("see " + "shared/" + "DESIGN.md")
    assert not OUTSIDE.search("a policy named 'shared'")


def test_a_missing_corpus_file_fails_its_test_with_a_message_not_the_collection() -> None:
    from tests.corpus_files import MISSING, corpus_file, corpus_names, require

    assert corpus_names("no-such-folder", "*.json") == [MISSING]  # collection still works
    for call in (lambda: require(MISSING), lambda: corpus_file("no/such.json")):
        try:
            call()
        except pytest.fail.Exception as failure:
            assert "tests/corpus" in str(failure) and "git" in str(failure)
        else:
            raise AssertionError("a missing corpus file did not fail the test")
