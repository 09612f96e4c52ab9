"""The write journal: what Tanium reported storing after our writes, kept across passes."""

from __future__ import annotations

from pathlib import Path

from controller.core.model import TaniumId
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
