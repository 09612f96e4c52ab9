"""The write journal: what Tanium reported storing after our writes, kept across passes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from controller.core.model import ActualIntel, ActualState, TaniumId
from controller.render.intel import RENDERER_VERSION
from controller.tanium.journal import Journal, journal_path


def test_a_journal_round_trips_and_forgets_deleted_and_vanished_documents(tmp_path: Path) -> None:
    journal = Journal.load("https://t.example/", "src", tmp_path)
    assert journal.entries == {}
    journal.record({TaniumId(1): ("a" * 32, "d1"), TaniumId(2): ("b" * 32, "d2")})
    journal.save()
    again = Journal.load("https://t.example", "src", tmp_path)
    assert again.entries == {TaniumId(1): ("a" * 32, "d1"), TaniumId(2): ("b" * 32, "d2")}
    again.record({TaniumId(3): ("c" * 32, "d3")}, removed=[TaniumId(1)], present=[2, 3])
    assert sorted(again.entries) == [2, 3]


def test_an_unreadable_journal_starts_empty_instead_of_failing(tmp_path: Path) -> None:
    path = journal_path("https://t.example", "src", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    assert Journal.load("https://t.example", "src", tmp_path).entries == {}


def test_each_tanium_and_source_has_its_own_journal(tmp_path: Path) -> None:
    paths = {
        journal_path("https://a.example", "src", tmp_path),
        journal_path("https://b.example", "src", tmp_path),
        journal_path("https://a.example", "other", tmp_path),
    }
    assert len(paths) == 3


def test_entries_hold_for_the_renderer_that_recorded_them(tmp_path: Path) -> None:
    """A journal written by another renderer version vouches for nothing (its documents are
    rendered and compared again); one of format 1 was written by renderer 1."""
    journal = Journal.load("https://t.example", "src", tmp_path)
    journal.record({TaniumId(1): ("a" * 32, "d1")})
    journal.save()
    raw = json.loads(journal.path.read_text(encoding="utf-8"))
    assert raw["renderer"] == RENDERER_VERSION and raw["format_version"] == 3
    assert Journal.load("https://t.example", "src", tmp_path).entries  # same renderer: kept
    raw["renderer"] = RENDERER_VERSION + 1
    journal.path.write_text(json.dumps(raw), encoding="utf-8")
    assert Journal.load("https://t.example", "src", tmp_path).entries == {}
    old = {"format_version": 1, "documents": {"1": {"md5": "a" * 32, "digest": "d1"}}}
    journal.path.write_text(json.dumps(old), encoding="utf-8")
    expected = {TaniumId(1): ("a" * 32, "d1")} if RENDERER_VERSION == 1 else {}
    assert Journal.load("https://t.example", "src", tmp_path).entries == expected


def _state(*ids: int) -> ActualState:
    docs = tuple(ActualIntel(id=TaniumId(i), md5=f"{i:032x}") for i in ids)
    return ActualState(source_id=TaniumId(1), source_name="src", intel=docs)


def test_learning_adds_to_the_journal_and_forgets_what_tanium_no_longer_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCTI_TANIUM_STATE_DIR", str(tmp_path))
    journal = Journal.load("https://t.example", "src")
    journal.record({TaniumId(1): ("a" * 32, "d1"), TaniumId(9): ("9" * 32, "d9")})
    journal.save()
    Journal.learn("https://t.example", "src", {TaniumId(2): ("b" * 32, "d2")}, _state(1, 2))
    assert Journal.load("https://t.example", "src").entries == {
        TaniumId(1): ("a" * 32, "d1"),
        TaniumId(2): ("b" * 32, "d2"),
    }
    before = journal.path.stat().st_mtime_ns
    Journal.learn("https://t.example", "src", {}, _state())  # nothing learned: nothing written
    assert journal.path.stat().st_mtime_ns == before


def test_a_journal_that_cannot_be_written_costs_renderings_not_the_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the state directory should be", encoding="utf-8")
    monkeypatch.setenv("OCTI_TANIUM_STATE_DIR", str(blocked))
    with caplog.at_level(logging.WARNING, logger="controller.tanium"):
        Journal.learn("https://t.example", "src", {TaniumId(2): ("b" * 32, "d2")}, _state(2))
    assert "write journal not saved" in caplog.text
    assert "OCTI_TANIUM_STATE_DIR" in caplog.text


def test_a_journal_read_again_unchanged_comes_from_memory_and_any_change_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` loads the journal every pass: the file is parsed again only when it changed —
    replaced by a save, or written in place by someone else."""
    from controller.tanium import journal as module

    parsed: list[Path] = []
    parse = module._parse

    def counted(raw: object, path: Path) -> dict[TaniumId, tuple[str, str]]:
        parsed.append(path)
        return parse(raw, path)

    monkeypatch.setattr(module, "_parse", counted)
    first = Journal.load("https://t.example", "src", tmp_path)
    first.record({TaniumId(1): ("a" * 32, "d1")})
    first.save()
    one = Journal.load("https://t.example", "src", tmp_path)
    one.entries[TaniumId(9)] = ("z" * 32, "dz")  # each journal's entries are its own
    two = Journal.load("https://t.example", "src", tmp_path)
    assert len(parsed) == 1 and two.entries == {TaniumId(1): ("a" * 32, "d1")}
    two.record({TaniumId(2): ("b" * 32, "d2")})
    two.save()
    assert set(Journal.load("https://t.example", "src", tmp_path).entries) == {1, 2}
    raw = json.loads(two.path.read_text(encoding="utf-8"))
    raw["md5"][raw["ids"].index(2)] = "c" * 32  # written in place (the same inode)
    two.path.write_text(json.dumps(raw), encoding="utf-8")
    assert Journal.load("https://t.example", "src", tmp_path).entries[TaniumId(2)][0] == "c" * 32
    assert len(parsed) == 3
