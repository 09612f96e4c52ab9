"""One error tree, classed by what to do next; one retry loop for both clients."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
from click.testing import CliRunner

from controller.cli import main
from controller.errors import OctiTaniumError, RemoteError, UserError
from controller.planfile import PlanFileError
from controller.retry import Timing
from controller.sources.bundle import BundleError
from controller.sources.opencti import (
    OpenCTIAuthError,
    OpenCTISettings,
    OpenCTISettingsError,
    OpenCTITransientError,
)
from controller.sources.opencti.client import GraphQLClient
from controller.sources.opencti.queries import MARKINGS
from controller.tanium import AuthError, RejectedError, TaniumSettingsError, TransientError

WALL = 1_700_000_000.0


def test_every_error_hangs_under_the_one_root_by_what_to_do_next() -> None:
    for user in (PlanFileError, BundleError, TaniumSettingsError, OpenCTISettingsError):
        assert issubclass(user, UserError)
    for remote in (AuthError, RejectedError, TransientError, OpenCTIAuthError):
        assert issubclass(remote, RemoteError)
    assert issubclass(UserError, OctiTaniumError) and OctiTaniumError.exit_code == 1


def test_a_401_stops_an_apply_but_a_403_fails_only_its_items() -> None:
    assert AuthError("no", status=401).fatal
    assert not AuthError("no", status=403).fatal
    assert TransientError("down", status=503).temporary
    assert not RejectedError("bad", status=400).temporary
    assert AuthError("no", status=401).explain().startswith("Tanium refused the credentials: ")
    assert OpenCTIAuthError("no").explain().startswith("OpenCTI: ")


def test_a_usage_error_exits_1_never_2() -> None:
    result = CliRunner().invoke(main, ["plan", "--no-such-flag"])
    assert result.exit_code == 1


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def opencti(handler: Any, recorder: Recorder, **settings: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"url": "http://opencti.test", "token": "t", **settings}
    timing = Timing(recorder.sleep, lambda: 0.0, lambda: WALL, random.Random(3))

    async def scenario() -> dict[str, Any]:
        transport = httpx.MockTransport(handler)
        async with GraphQLClient(
            OpenCTISettings(**values), transport=transport, timing=timing
        ) as client:
            return await client.execute(MARKINGS, {"first": 10, "after": None})

    return asyncio.run(scenario())


def test_opencti_honours_a_retry_after_http_date() -> None:
    when = datetime.fromtimestamp(WALL, UTC) + timedelta(seconds=20)
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)}),
            httpx.Response(200, json={"data": {"markingDefinitions": {"edges": []}}}),
        ]
    )
    recorder = Recorder()
    data = opencti(lambda request: next(answers), recorder)
    assert data == {"markingDefinitions": {"edges": []}}
    assert len(recorder.sleeps) == 1 and 20.0 <= recorder.sleeps[0] <= 20.5


def test_opencti_backoff_is_injected_and_bounded_by_the_attempts() -> None:
    recorder = Recorder()
    try:
        opencti(lambda request: httpx.Response(502), recorder, max_attempts=4)
    except OpenCTITransientError as exc:
        assert exc.attempts == 4 and exc.temporary
    else:
        raise AssertionError("a 502 that never ends must raise")
    assert len(recorder.sleeps) == 3 and all(0.0 <= s <= 2.0 for s in recorder.sleeps)
