"""The write journal's file: format 3 (columns) is what `save` writes; files of formats 1 and 2
(one object per document) still load, entry for entry as before, and the next save migrates
them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.model import TaniumId
from controller.render.intel import RENDERER_VERSION
from controller.tanium import journal as module
from controller.tanium.journal import Journal, journal_path

URL, SOURCE = "https://t.example", "src"

entries_st = st.dictionaries(
    st.integers(min_value=0, max_value=2**40).map(TaniumId),
    st.tuples(st.text(max_size=40), st.text(max_size=20)),
    max_size=30,
)


def _format_2(entries: dict[TaniumId, tuple[str, str]]) -> str:
    """The file as format 2's `save` wrote it (`write_json_atomically`: indented, sorted)."""
    documents = {str(i): {"md5": m, "digest": d} for i, (m, d) in sorted(entries.items())}
    body = {"format_version": 2, "renderer": RENDERER_VERSION, "documents": documents}
    return json.dumps(body, indent=1, sort_keys=True)


def _write(directory: Path, text: str) -> Path:
    path = journal_path(URL, SOURCE, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@settings(max_examples=60, deadline=None)
@given(entries=entries_st)
def test_format_2_loads_and_the_next_save_migrates_it(
    tmp_path_factory: pytest.TempPathFactory, entries: dict[TaniumId, tuple[str, str]]
) -> None:
    directory = tmp_path_factory.mktemp("journal")
    path = _write(directory, _format_2(entries))
    loaded = Journal.load(URL, SOURCE, directory)
    assert loaded.entries == entries
    loaded.save()
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format_version"] == 3 and raw["renderer"] == RENDERER_VERSION
    assert raw["ids"] == sorted(entries)
    assert Journal.load(URL, SOURCE, directory).entries == entries


def test_format_2_entries_that_do_not_fit_are_skipped_one_by_one(tmp_path: Path) -> None:
    documents: dict[str, Any] = {
        "1": {"md5": "a" * 32, "digest": "d1"},
        "2": {"md5": 5, "digest": "d2"},
        "3": {"md5": "c" * 32},
        "4": ["d" * 32, "d4"],
        "-5": {"md5": "e" * 32, "digest": "d5"},
        "x": {"md5": "f" * 32, "digest": "d6"},
        "7": {"md5": "7" * 32, "digest": "d7", "extra": True},
    }
    body = {"format_version": 2, "renderer": RENDERER_VERSION, "documents": documents}
    _write(tmp_path, json.dumps(body))
    assert Journal.load(URL, SOURCE, tmp_path).entries == {
        TaniumId(1): ("a" * 32, "d1"),
        TaniumId(7): ("7" * 32, "d7"),
    }


@pytest.mark.parametrize(
    "columns",
    [
        {"ids": [1, 2], "md5": ["a"], "digest": ["d1", "d2"]},  # unequal lengths
        {"ids": [True], "md5": ["a"], "digest": ["d"]},  # a boolean is no id
        {"ids": [-1], "md5": ["a"], "digest": ["d"]},
        {"ids": [1.0], "md5": ["a"], "digest": ["d"]},
        {"ids": [1], "md5": [None], "digest": ["d"]},
        {"ids": [1], "md5": ["a"], "digest": [2]},
        {"ids": {"1": 1}, "md5": ["a"], "digest": ["d"]},
        {"md5": ["a"], "digest": ["d"]},
    ],
)
def test_format_3_columns_that_do_not_fit_start_a_new_journal(
    tmp_path: Path, columns: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    body = {"format_version": 3, "renderer": RENDERER_VERSION, **columns}
    _write(tmp_path, json.dumps(body))
    with caplog.at_level(logging.WARNING, logger="controller.tanium"):
        assert Journal.load(URL, SOURCE, tmp_path).entries == {}
    assert "unknown format" in caplog.text


def test_an_empty_format_3_journal_loads_empty_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Journal(journal_path(URL, SOURCE, tmp_path)).save()
    with caplog.at_level(logging.WARNING, logger="controller.tanium"):
        assert Journal.load(URL, SOURCE, tmp_path).entries == {}
    assert caplog.text == ""


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xef\xbb\xbf{}", b'{"a": "\\ud800"', b"\xff\xfe", b"[1] x"],
)
def test_a_file_that_is_not_json_is_reported_as_json_loads_words_it(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """The warning names the problem as the standard parser does (pydantic-core's words are
    never shown): the same message as when the file was read with `json.loads`."""
    path = journal_path(URL, SOURCE, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        expected = str(exc)
    with caplog.at_level(logging.WARNING, logger="controller.tanium"):
        assert Journal.load(URL, SOURCE, tmp_path).entries == {}
    assert f"unreadable ({expected})" in caplog.text


def test_a_lone_surrogate_loads_as_json_loads_reads_it(tmp_path: Path) -> None:
    """What pydantic-core refuses but `json.loads` reads is read by the latter."""
    body = {"format_version": 3, "renderer": RENDERER_VERSION}
    text = json.dumps(body)[:-1] + ', "ids": [4], "md5": ["\\ud800"], "digest": ["d"]}'
    _write(tmp_path, text)
    assert module._decode(text.encode()) == json.loads(text)
    assert Journal.load(URL, SOURCE, tmp_path).entries == {TaniumId(4): ("\ud800", "d")}
