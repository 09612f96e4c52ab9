"""A hash is exactly its hex digits: a trailing newline is not one (`$` matched before it)."""

from __future__ import annotations

import pytest

from controller.core.model import SourceObject
from controller.render import canonical_hashes, convert
from controller.render.canonical import hash_problem

MD5 = "a" * 32


@pytest.mark.parametrize("value", ["a" * 31 + "\n", MD5 + "\n", "a" * 30 + "\n\n", "\n" + "a" * 31])
def test_a_newline_is_not_a_hex_digit(value: str) -> None:
    assert hash_problem("md5", value) is not None
    assert canonical_hashes({"MD5": value}) == {}


def test_a_hash_is_still_a_hash() -> None:
    assert hash_problem("md5", MD5.upper()) is None
    assert canonical_hashes({"MD5": MD5.upper()}) == {"md5": MD5}


def test_a_file_with_a_newline_in_its_hash_is_skipped_not_cut_short() -> None:
    obj = SourceObject(
        standard_id="file--1", entity_type="StixFile", hashes={"MD5": "a" * 31 + "\n"}
    )
    conversion = convert(obj)
    assert not conversion.files and conversion.skip_reason is not None
    assert "not 32 hex digits" in conversion.skip_reason
