"""The Tanium read's fast path (no pydantic validation) gives exactly what the validated path
gives, for any page — well-typed or not — and takes the validated path's error otherwise."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from octi_sandbox.server import serve_in_thread
from octi_sandbox.tanium import DEFAULT_TOKEN, TaniumConfig, create_app

from controller.collector import paused as collector_paused
from controller.core.model import ActualBlocklist, ActualIntel, ActualState, TaniumId
from controller.tanium import ProtocolError, TaniumClient, mapping
from controller.tanium.snapshot import read_snapshot, take, write_snapshot

SOURCE = "OpenCTI (octi-tanium)"


def validated_intel(raw: list[dict[str, Any]]) -> list[ActualIntel]:
    """The reference: every row through pydantic (the only path before the fast one)."""
    rows = [mapping._intel_row(d) for d in raw]
    return mapping._validate(mapping._INTEL, rows, raw, "where", "intel")


def validated_entries(raw: list[dict[str, Any]]) -> list[ActualBlocklist]:
    rows = [mapping._entry_row(d) for d in raw]
    return mapping._validate(mapping._ENTRIES, rows, raw, "where", "reputation entry")


def outcome(fn: Any, raw: list[dict[str, Any]]) -> tuple[str, Any]:
    try:
        models = fn(raw)
    except ProtocolError as exc:
        return "error", str(exc)
    return "ok", [(m, repr(m), json.dumps(m.to_json())) for m in models]


TEXT = st.sampled_from(
    ["", "x", "bulk-1", "ÄÖ ü", "[octi-tanium:v1 key=k digest=0123456789abcdef]"]
)
ODD = st.sampled_from([None, 0, 1, True, False, 1.5, "7", [], {}, [1], ["a"]])
STAMPS = st.sampled_from(
    [None, "", "2026-11-29T10:25:02.802Z", "2026-11-29T10:25:02.802Z", "2026-01-02T03:04:05+02:00",
     "2026-11-29", "not a time", 1_700_000_000, "1700000000"]
)  # fmt: skip
IDS = st.one_of(st.integers(1, 2**40), ODD)
HEX = st.one_of(st.sampled_from(["0cc175b9C0F1B6A8", "abc", "ABCDEF", ""]), ODD)


def weighted(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly well-typed values (the fast path), sometimes odd ones (the validated path)."""
    return st.one_of(good, good, good, ODD)


INTEL = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(1, 2**40), st.integers(1, 2**40), IDS)},
    optional={
        "name": weighted(st.one_of(TEXT, st.none())),
        "description": weighted(st.one_of(TEXT, st.none())),
        "type": weighted(st.sampled_from(["openioc", "yara", "tanium-signal", None])),
        "intrinsicId": weighted(st.one_of(TEXT, st.integers(0, 99), st.none())),
        "md5": weighted(st.one_of(HEX, st.none())),
        "size": weighted(st.one_of(st.integers(0, 10**6), st.none())),
        "revisionId": weighted(st.one_of(st.integers(1, 9), st.none())),
        "labelIds": weighted(st.one_of(st.lists(st.integers(1, 50), max_size=3), st.none())),
        "sourceId": weighted(st.one_of(st.integers(1, 9), st.none())),
        "platforms": weighted(
            st.one_of(st.lists(st.sampled_from(["windows", "linux"]), max_size=2), st.none())
        ),
        "updatedAt": STAMPS,
        "contents": weighted(st.one_of(TEXT, st.none())),
        "isSchemaValid": weighted(st.one_of(st.booleans(), st.none())),
        "alertCount": st.integers(0, 3),
    },
)

ENTRY = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(1, 2**40), st.integers(1, 2**40), IDS)},
    optional={
        "list": weighted(st.sampled_from(["blacklist", "whitelist", "", None])),
        "md5": weighted(st.one_of(HEX, st.none())),
        "sha1": weighted(st.one_of(HEX, st.none())),
        "sha256": weighted(st.one_of(HEX, st.none())),
        "notes": weighted(st.one_of(TEXT, st.none())),
        "comment": st.sampled_from(["", "[octi-tanium:v1 key=elsewhere]"]),
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(INTEL, max_size=4))
def test_intel_fast_path_equals_validated(raw: list[dict[str, Any]]) -> None:
    assert outcome(lambda r: mapping.intel_list(r, where="where"), raw) == outcome(
        validated_intel, raw
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ENTRY, max_size=4))
def test_entry_fast_path_equals_validated(raw: list[dict[str, Any]]) -> None:
    assert outcome(lambda r: mapping.blocklist_list(r, where="where"), raw) == outcome(
        validated_entries, raw
    )


ODD_VALUES = [None, 0, 1, -1, True, False, 1.5, "", "7", "x", [], {}, [1], ["a"], [True], [1.0]]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["id", "name", "description", "type", "intrinsicId", "md5", "size",
                     "revisionId", "labelIds", "sourceId", "platforms", "updatedAt", "contents",
                     "isSchemaValid"]),
    st.sampled_from(ODD_VALUES),
    st.sampled_from(["id", "list", "md5", "sha1", "sha256", "notes"]),
    st.sampled_from(ODD_VALUES),
)  # fmt: skip
def test_one_odd_field_in_a_well_typed_page(
    intel_key: str, intel_value: Any, entry_key: str, entry_value: Any
) -> None:
    """Every field's check: one odd value among well-typed ones gives what pydantic gives."""
    raw = [{**WELL_TYPED, "id": 1}, {**WELL_TYPED, intel_key: intel_value}]
    assert outcome(lambda r: mapping.intel_list(r, where="where"), raw) == outcome(
        validated_intel, raw
    )
    entry = {"id": 2, "list": "blacklist", "md5": "A", "sha1": "B", "sha256": "C", "notes": "n"}
    entries = [entry, {**entry, entry_key: entry_value}]
    assert outcome(lambda r: mapping.blocklist_list(r, where="where"), entries) == outcome(
        validated_entries, entries
    )


WELL_TYPED = {
    "id": 12, "revisionId": 3, "type": "openioc", "intrinsicId": "ioc-1", "md5": "ABCDEF",
    "name": "n", "description": "d", "size": 5, "labelIds": [2, 1], "sourceId": 1,
    "platforms": ["windows"], "updatedAt": "2026-11-29T10:25:02.802Z", "isSchemaValid": True,
    "mitreAttack": None, "alertCount": 0,
}  # fmt: skip


def test_the_fast_path_is_taken_for_well_typed_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("the validated path was taken")

    monkeypatch.setattr(mapping, "_validate", refuse)
    [doc] = mapping.intel_list([WELL_TYPED], where="w")
    assert doc == ActualIntel(
        id=TaniumId(12), name="n", description="d", intel_type="openioc", intrinsic_id="ioc-1",
        md5="abcdef", size=5, revision_id=3, label_ids=(TaniumId(2), TaniumId(1)),
        source_id=TaniumId(1), platforms=("windows",),
        updated_at=datetime(2026, 11, 29, 10, 25, 2, 802000, tzinfo=UTC), schema_valid=True,
    )  # fmt: skip
    [entry] = mapping.blocklist_list([{"id": 4, "sha256": "AB", "notes": None}], where="w")
    assert entry == ActualBlocklist(id=TaniumId(4), sha256="ab")


def test_compact_values_behave_as_validated_ones() -> None:
    [fast] = mapping.intel_list([WELL_TYPED], where="w")
    [slow] = validated_intel([WELL_TYPED])
    assert fast == slow and hash(fast) == hash(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow
    moved = dataclasses.replace(fast, md5="0" * 32)
    assert moved.md5 == "0" * 32 and fast.md5 == "abcdef"
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.md5 = "x"  # type: ignore[misc]
    assert not hasattr(fast, "__dict__")  # slotted


def test_a_malformed_page_names_what_does_not_fit() -> None:
    with pytest.raises(ProtocolError, match=r"unexpected intel shape: 0\.id"):
        mapping.intel_list([{"id": "twelve", "name": "n"}], where="w")
    with pytest.raises(ProtocolError, match="unexpected reputation entry shape"):
        mapping.blocklist_list([{"id": 1, "md5": 5}], where="w")


# ---------------------------------------------------------------------------- the collector


def test_the_collector_pause_is_reentrant_and_restores_the_setting() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer read is still running
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()


# ---------------------------------------------------------------------------- over real HTTP


@pytest.fixture
def tanium_server() -> Iterator[str]:
    with serve_in_thread(create_app(TaniumConfig())) as url:
        yield url


def test_a_read_of_the_emulator_takes_the_fast_path_and_restores_the_collector(
    tanium_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Over HTTP, the emulator's documents and entries (as Tanium lists them) never need the
    validated path, and the state equals the validated one — snapshot file included."""
    with httpx.Client(base_url=tanium_server + "/__sandbox", timeout=60) as sandbox:
        sandbox.post("/seed", json={"intel": {"count": 1_200, "sourceName": SOURCE},
                                    "reputation": {"count": 700}}).raise_for_status()  # fmt: skip
    pages: list[list[dict[str, Any]]] = []
    fast_intel, fast_entries = mapping.intel_list, mapping.blocklist_list

    def spy_intel(raw: Any, *, where: str) -> list[ActualIntel]:
        pages.append(raw)
        return fast_intel(raw, where=where)

    def spy_entries(raw: Any, *, where: str) -> list[ActualBlocklist]:
        pages.append(raw)
        return fast_entries(raw, where=where)

    validate = mapping._validate

    def refuse(adapter: Any, *args: Any) -> Any:
        if adapter in (mapping._INTEL, mapping._ENTRIES):
            raise AssertionError("the validated path was taken")
        return validate(adapter, *args)  # sources, labels

    monkeypatch.setattr("controller.tanium.reads.intel_list", spy_intel)
    monkeypatch.setattr("controller.tanium.reads.blocklist_list", spy_entries)
    monkeypatch.setattr(mapping, "_validate", refuse)

    async def read() -> ActualState:
        async with TaniumClient(tanium_server, DEFAULT_TOKEN, page_size=500) as client:
            return await client.read_state(SOURCE)

    state = asyncio.run(read())
    assert gc.isenabled()
    assert len(state.intel) == 1_200 and len(state.blocklist) == 700
    assert len(pages) == 3 + 2  # converted page by page: 3 intel pages, 2 of entries
    monkeypatch.undo()

    intel = sorted((d for p in pages for d in p if "intrinsicId" in d), key=lambda d: d["id"])
    entries = sorted((d for p in pages for d in p if "intrinsicId" not in d),
                     key=lambda d: d["id"])  # fmt: skip
    slow = state.model_copy(
        update={
            "intel": tuple(validated_intel(intel)),
            "blocklist": tuple(validated_entries(entries)),
        }
    )
    assert state == slow
    taken = datetime(2026, 11, 29, tzinfo=UTC)
    write_snapshot(take(state, tanium_url=tanium_server, taken_at=taken), tmp_path / "fast.json")
    write_snapshot(take(slow, tanium_url=tanium_server, taken_at=taken), tmp_path / "slow.json")
    text = (tmp_path / "fast.json").read_text()
    assert text == (tmp_path / "slow.json").read_text()
    assert read_snapshot(tmp_path / "fast.json").state == state
    assert json.loads(text)["state"]["intel"][0]["updated_at"].endswith("Z")
