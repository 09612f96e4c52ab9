"""Transport: envelope, content types, error classes, retries and Retry-After (MockTransport)."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from tanium_fakes import TOKEN, TR, FakeClock, error, intel_json, reply, run

from controller.core.model import TaniumId
from controller.retry import parse_retry_after
from controller.tanium import (
    AuthError,
    ConflictError,
    NotFoundError,
    ProtocolError,
    RejectedError,
    RetryPolicy,
    TaniumClient,
    TaniumError,
    TransientError,
)


async def get_doc(client: TaniumClient) -> Any:
    return await client.get_intel(TaniumId(5))


def test_data_envelope_is_unwrapped_into_the_model() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"{TR}/intels/5"
        return reply(intel_json(5, labelIds=[3, 4], platforms=["windows"], extra="ignored"))

    doc = run(server, get_doc)
    assert doc.id == 5
    assert doc.intrinsic_id == "ioc-5"
    assert doc.label_ids == (3, 4)
    assert doc.platforms == ("windows",)
    assert doc.description == ""  # null is "absent"


def test_json_with_charset_parameter_is_accepted() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return reply(intel_json(5), content_type="application/json; charset=utf-8")

    assert run(server, get_doc).name == "doc 5"


def test_bare_payload_without_envelope_is_accepted() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=intel_json(5))

    assert run(server, get_doc).id == 5


def test_non_json_reply_is_a_protocol_error() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"})

    with pytest.raises(ProtocolError, match="expected a JSON reply, got text/html"):
        run(server, get_doc)


def test_session_header_carries_the_token_and_no_authorization_header() -> None:
    seen: list[httpx.Headers] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return reply(intel_json(5))

    run(server, get_doc)
    assert seen[0]["session"] == TOKEN
    assert "authorization" not in seen[0]


@pytest.mark.parametrize(
    ("status", "body", "cls", "reason"),
    [
        (401, {"text": "Unauthorized"}, AuthError, "api_token_trusted_ip_address_list"),
        (403, {"text": "Forbidden"}, AuthError, "lacks the permission"),
        (400, {"text": "t", "errors": [{"description": "bad YARA"}]}, RejectedError, "bad YARA"),
        (400, {"text": "name is required"}, RejectedError, "name is required"),
        (400, {"Message": "invalid filter"}, RejectedError, "invalid filter"),
        (404, {"text": "not found"}, NotFoundError, "not found"),
        (409, {"text": "exists"}, ConflictError, "exists"),
        (422, {"text": "unprocessable"}, RejectedError, "unprocessable"),
    ],
)
def test_error_statuses_map_to_their_class(
    status: int, body: dict[str, Any], cls: type[TaniumError], reason: str
) -> None:
    calls = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return error(status, body)

    with pytest.raises(cls) as caught:
        run(server, get_doc)
    err = caught.value
    assert len(calls) == 1  # permanent: not retried
    assert not err.temporary
    assert (err.method, err.path, err.status) == ("GET", f"{TR}/intels/5", status)
    assert reason in err.reason
    assert f"GET {TR}/intels/5 -> {status}" in str(err)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_temporary_statuses_are_retried_then_raised_as_transient(status: int) -> None:
    calls = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return error(status, {"text": "busy " + "x" * 300})

    clock = FakeClock()
    with pytest.raises(TransientError) as caught:
        run(server, get_doc, clock)
    assert len(calls) == 5 == caught.value.attempts
    assert len(clock.sleeps) == 4
    assert caught.value.temporary and caught.value.status == status
    assert len(caught.value.body) == 200


def test_transient_failure_then_success_returns_the_answer() -> None:
    answers = iter([error(503, {"text": "x"}), error(502, {"text": "y"})])

    def server(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or reply(intel_json(5))

    assert run(server, get_doc).id == 5


def test_connection_reset_on_a_get_is_retried() -> None:
    calls = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            raise httpx.ReadError("Connection reset by peer", request=request)
        return reply(intel_json(5))

    assert run(server, get_doc).id == 5
    assert len(calls) == 3


def test_retry_after_seconds_is_honoured() -> None:
    answers = iter([error(429, {"text": "slow down"}, {"Retry-After": "7"})])

    def server(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or reply(intel_json(5))

    clock = FakeClock()
    run(server, get_doc, clock)
    assert clock.sleeps == [pytest.approx(7.0, abs=0.06)]
    assert clock.sleeps[0] >= 7.0


def test_retry_after_http_date_is_honoured() -> None:
    clock = FakeClock()
    when = datetime.fromtimestamp(clock.wall + 30, UTC)
    answers = iter([error(503, {"text": "x"}, {"Retry-After": format_datetime(when, True)})])

    def server(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or reply(intel_json(5))

    run(server, get_doc, clock)
    assert 30.0 <= clock.sleeps[0] <= 30.1


def test_retry_after_beyond_the_time_budget_gives_up_at_once_with_the_hint() -> None:
    calls = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return error(429, {"text": "later"}, {"Retry-After": "3600"})

    clock = FakeClock()
    with pytest.raises(TransientError) as caught:
        run(server, get_doc, clock)
    assert len(calls) == 1 and clock.sleeps == []
    assert caught.value.retry_after == 3600.0


def test_parse_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("-3", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("inf", now) is None
    assert parse_retry_after(None, now) is None
    past = format_datetime(datetime.fromtimestamp(now - 60, UTC), True)
    assert parse_retry_after(past, now) == 0.0


def test_backoff_is_full_jitter_within_the_capped_bound() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(1)
    for attempt in range(1, 10):
        bound = min(8.0, 2 ** (attempt - 1))
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= bound for d in delays)
        assert max(delays) > bound * 0.8  # spread over the whole interval


def test_total_time_budget_bounds_the_retries() -> None:
    calls = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return error(503, {"text": "x"}, {"Retry-After": "20"})

    policy = RetryPolicy(max_attempts=100, base_delay=0.01, max_delay=0.01, max_total=50.0)
    with pytest.raises(TransientError):
        run(server, get_doc, retry=policy)
    assert len(calls) == 3  # at 0, 20, 40 s; a fourth would start at 60 s > 50 s


def test_token_never_appears_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        # a server echoing the request headers in its error body
        return error(500, {"text": f"boom session={request.headers['session']}"})

    caplog.set_level(logging.DEBUG)
    with pytest.raises(TransientError) as caught:
        run(server, get_doc)
    texts = [str(caught.value), repr(caught.value), caught.value.body, caught.value.reason]
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records  # requests and retries were logged
    assert all(TOKEN not in text for text in texts)
    assert "<redacted>" in caught.value.body
    client = TaniumClient("https://tanium.test/", TOKEN)
    assert TOKEN not in repr(client) and TOKEN not in repr(client.__dict__)
