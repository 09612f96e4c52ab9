"""Fixtures of the GitHub tests: the stand-in on api.github.com's and on GHES's layout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github_stand import Stand, stand


@pytest.fixture
def github() -> Iterator[Stand]:
    """The stand-in on api.github.com's layout (API root at `/`)."""
    yield from stand()


@pytest.fixture
def enterprise() -> Iterator[Stand]:
    """The stand-in on GitHub Enterprise Server's layout (API root at `/api/v3`)."""
    yield from stand("/api/v3")
