"""The OpenCTI listing and the Tanium read run at once (`reconcile.both`), with the errors of
running them one after the other: the source's error first, whichever failed first."""

from __future__ import annotations

import asyncio

import pytest

from controller.reconcile import both
from controller.sources.opencti.errors import OpenCTIAuthError
from controller.tanium.errors import TaniumError


async def _after(delay: float, value: object = None, error: BaseException | None = None) -> object:
    await asyncio.sleep(delay)
    if error is not None:
        raise error
    return value


def test_both_results_come_back_in_order() -> None:
    assert asyncio.run(both(_after(0.02, "source"), _after(0, "tanium"))) == ("source", "tanium")


def test_the_source_error_wins_even_when_tanium_failed_first() -> None:
    source_error, tanium_error = OpenCTIAuthError("no"), TaniumError("down")
    with pytest.raises(OpenCTIAuthError) as raised:
        asyncio.run(both(_after(0.02, error=source_error), _after(0, error=tanium_error)))
    assert raised.value is source_error


def test_tanium_error_when_only_tanium_failed_after_the_source_finished() -> None:
    finished: list[str] = []

    async def source() -> str:
        await asyncio.sleep(0.02)
        finished.append("source")
        return "snapshot"

    tanium_error = TaniumError("down")
    with pytest.raises(TaniumError) as raised:
        asyncio.run(both(source(), _after(0, error=tanium_error)))
    assert raised.value is tanium_error and finished == ["source"]


def test_a_failed_source_still_lets_the_tanium_read_finish() -> None:
    """No read is left running behind a raised error (its client is closed properly)."""
    finished: list[str] = []

    async def tanium() -> str:
        await asyncio.sleep(0.02)
        finished.append("tanium")
        return "actual"

    with pytest.raises(OpenCTIAuthError):
        asyncio.run(both(_after(0, error=OpenCTIAuthError("no")), tanium()))
    assert finished == ["tanium"]
