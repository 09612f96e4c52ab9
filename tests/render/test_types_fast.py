"""The renderer's cheap constructors (`openioc_candidate`, `file_candidate`) make what the
dataclasses' own constructors make: equal, hashed alike, as frozen, every field set."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.model import Key
from controller.render.types import FileCandidate, IntelCandidate, file_candidate, openioc_candidate

TEXT = st.text(max_size=20)


@given(TEXT, TEXT, TEXT, TEXT)
def test_openioc_candidate_is_the_constructor(
    key: str, name: str, description: str, payload: str
) -> None:
    made = openioc_candidate(key, name, description, payload)
    expected = IntelCandidate(
        key=Key(key), intel_type="openioc", name=name, description=description, payload=payload
    )
    assert type(made) is IntelCandidate
    assert made == expected and hash(made) == hash(expected)
    assert dataclasses.astuple(made) == dataclasses.astuple(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "other"  # type: ignore[misc]


@given(TEXT, st.dictionaries(st.sampled_from(["md5", "sha1", "sha256"]), TEXT), TEXT)
def test_file_candidate_is_the_constructor(key: str, hashes: dict[str, str], name: str) -> None:
    made = file_candidate(key, hashes, name)
    expected = FileCandidate(key=Key(key), hashes=hashes, name=name)
    assert type(made) is FileCandidate and made == expected
    assert dataclasses.astuple(made) == dataclasses.astuple(expected)
    assert made.hashes is hashes  # taken as given, as the constructor does
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "other"  # type: ignore[misc]
