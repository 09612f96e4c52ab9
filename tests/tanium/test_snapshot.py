"""Snapshots of the owned inventory round-trip exactly and refuse what is not one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.core.model import ActualBlocklist, ActualIntel, ActualLabel, ActualState, TaniumId
from controller.tanium.snapshot import (
    SnapshotError,
    public_url,
    read_snapshot,
    take,
    write_snapshot,
)

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
STATE = ActualState(
    source_id=TaniumId(3),
    source_name="OpenCTI (octi-tanium)",
    intel=(ActualIntel(id=TaniumId(7), name="evil.example", description="d", md5="ab" * 16),),
    labels=(ActualLabel(id=TaniumId(1), name="opencti"),),
    blocklist=(ActualBlocklist(id=TaniumId(9), md5="cd" * 16, notes="n"),),
)


def test_a_snapshot_round_trips_and_keeps_its_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    snapshot = take(STATE, tanium_url="https://tenant-api.example.com/", taken_at=NOW)
    write_snapshot(snapshot, path)
    assert read_snapshot(path) == snapshot
    assert not list(tmp_path.glob(".*partial"))


def test_the_url_keeps_no_credentials() -> None:
    assert public_url("HTTPS://user:secret@Tenant-API.example.com:8443/base/?token=x#f") == (
        "https://tenant-api.example.com:8443/base"
    )


def test_an_edited_snapshot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    write_snapshot(take(STATE, tanium_url="https://t.example", taken_at=NOW), path)
    data = json.loads(path.read_text())
    data["state"]["intel"][0]["md5"] = "ef" * 16
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError, match="does not match its fingerprint"):
        read_snapshot(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"snap.json:1:2: not a snapshot \(invalid JSON"),
        ('{"format_version": "1.0"}', "not an octi-tanium snapshot"),
        ("[]", "not an octi-tanium snapshot"),
    ],
)
def test_a_file_that_is_not_a_snapshot_says_what_it_is(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "snap.json"
    path.write_text(text)
    with pytest.raises(SnapshotError, match=message):
        read_snapshot(path)


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="octi-tanium snapshot --out FILE"):
        read_snapshot(tmp_path / "missing.json")
