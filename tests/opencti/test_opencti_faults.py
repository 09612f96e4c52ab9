"""Fail closed: what the OpenCTI source does when pages fail, errors come back, counts differ."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from octi_sandbox.opencti import DEMO_SEED, OpenCTIConfig
from octi_sandbox.opencti.config import READ_ONLY
from octi_sandbox.opencti.faults import FaultRule

from controller.policy.loader import PolicySet
from controller.sources.opencti import (
    OpenCTIAuthError,
    OpenCTIQueryError,
    fetch_snapshot,
)

from .conftest import NOW, InProcess, Served, run, settings_for

SECRET = "s3cr3t-token-value-0123456789"


def seeded(target: InProcess | Served) -> None:
    target.state.seed(json.loads(DEMO_SEED.read_bytes()))


def fault(target: InProcess | Served, **rule: Any) -> None:
    target.state.faults.add(FaultRule.model_validate(rule))


def baseline(everything: PolicySet) -> Any:
    clean = InProcess()
    seeded(clean)
    snapshot = clean.fetch(everything, page_size=10)
    assert snapshot.complete
    return snapshot.objects


# --------------------------------------------------------------------------- incomplete


def test_a_page_that_keeps_failing_makes_the_snapshot_incomplete(
    served: Served, everything: PolicySet
) -> None:
    seeded(served)
    fault(served, kind="status", status=502, field="indicators", after=1)
    snapshot = served.fetch(everything, page_size=10)
    assert not snapshot.complete
    (reason,) = snapshot.incomplete_reasons
    assert reason.startswith("indicators: page 2 failed")
    assert "502" in reason and "after 4 attempts" in reason
    assert len([o for o in snapshot.objects if o.is_indicator]) == 10  # page 1 kept, no more


def test_a_graphql_error_makes_the_snapshot_incomplete(
    emulator: InProcess, everything: PolicySet
) -> None:
    seeded(emulator)
    fault(
        emulator,
        kind="graphql_error",
        code="FUNCTIONAL_ERROR",
        message="boom",
        field="stixCyberObservables",
    )
    snapshot = emulator.fetch(everything)
    assert not snapshot.complete
    (reason,) = snapshot.incomplete_reasons
    assert "observables: page 1 failed" in reason
    assert "FUNCTIONAL_ERROR" in reason and "boom" in reason
    assert all(o.is_indicator for o in snapshot.objects)


def test_a_persistent_database_error_is_retried_then_reported(
    emulator: InProcess, everything: PolicySet
) -> None:
    seeded(emulator)
    fault(emulator, kind="graphql_error", code="DATABASE_ERROR", field="indicators")
    snapshot = emulator.fetch(everything)
    assert not snapshot.complete
    assert "DATABASE_ERROR" in snapshot.incomplete_reasons[0]
    assert emulator.state.requests["field:indicators"] == 4  # max_attempts


def test_a_count_mismatch_makes_the_snapshot_incomplete(
    emulator: InProcess, everything: PolicySet
) -> None:
    seeded(emulator)

    async def lying(request: httpx.Request) -> httpx.Response:
        response = await httpx.ASGITransport(app=emulator.app).handle_async_request(request)
        body = json.loads(await response.aread())
        connection = (body.get("data") or {}).get("indicators")
        if connection:
            connection["pageInfo"]["globalCount"] += 1
        return httpx.Response(200, json=body)

    class Lying(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await lying(request)

    snapshot = run(fetch_snapshot(settings_for(), everything, now=NOW, transport=Lying()))
    assert not snapshot.complete
    (reason,) = snapshot.incomplete_reasons
    assert "indicators: read 62 objects but globalCount is 63" in reason


def test_objects_deleted_during_the_scan_make_the_snapshot_incomplete(
    emulator: InProcess, everything: PolicySet
) -> None:
    seeded(emulator)
    victim = next(iter(emulator.state.store.of_family("indicators")))

    def progress(label: str, fetched: int, total: int | None) -> None:
        if label == "indicators" and fetched == 10:
            emulator.state.delete(victim["standard_id"])

    snapshot = emulator.fetch(everything, page_size=10, progress=progress)
    assert not snapshot.complete
    assert "globalCount moved during the scan (62 → 61)" in snapshot.incomplete_reasons[0]


def test_a_silently_truncated_listing_is_caught(emulator: InProcess) -> None:
    for i in range(6):
        emulator.state.create_indicator(pattern=f"[ipv4-addr:value = '192.0.2.{i}']")

    class Truncating(httpx.AsyncBaseTransport):
        """A server whose page cap is lower than what the client asked for."""

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await httpx.ASGITransport(app=emulator.app).handle_async_request(request)
            body = json.loads(await response.aread())
            connection = (body.get("data") or {}).get("indicators")
            if connection:
                connection["edges"] = connection["edges"][:4]
                connection["pageInfo"]["hasNextPage"] = False
            return httpx.Response(200, json=body)

    policies = _indicators_only()
    snapshot = run(fetch_snapshot(settings_for(), policies, now=NOW, transport=Truncating()))
    assert not snapshot.complete
    assert "read 4 objects but globalCount is 6" in snapshot.incomplete_reasons[0]


def _indicators_only() -> PolicySet:
    from .conftest import policy_set

    return policy_set({"entityTypes": ["Indicator"]})


# --------------------------------------------------------------------------- transient


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "rate_limit", "retry_after": 0, "times": 2},
        {"kind": "status", "status": 502, "times": 2},
        {"kind": "status", "status": 503, "times": 3},
        {"kind": "lock_error", "times": 2},
        {"kind": "reset", "times": 2},
        {"kind": "timeout", "hold_seconds": 2, "times": 1},
    ],
    ids=lambda r: f"{r['kind']}-{r.get('status', '')}",
)
def test_transient_failures_are_retried_and_the_result_is_exact(
    rule: dict[str, Any], served: Served, everything: PolicySet
) -> None:
    seeded(served)
    fault(served, field="indicators", after=2, **rule)
    settings = settings_for(served.url, timeout=0.5)
    snapshot = served.fetch(everything, page_size=10, settings=settings)
    assert snapshot.complete, snapshot.incomplete_reasons
    assert snapshot.objects == baseline(everything)
    assert served.state.faults.injected[rule["kind"]] == rule["times"]


def test_random_faults_with_a_seed_are_survived(served: Served, everything: PolicySet) -> None:
    seeded(served)
    served.state.faults.clear(seed=7)
    for kind in ("status", "lock_error", "rate_limit"):
        fault(served, kind=kind, probability=0.15, retry_after=0)
    settings = settings_for(served.url, max_attempts=10)
    snapshot = served.fetch(everything, page_size=5, settings=settings)
    assert snapshot.complete, snapshot.incomplete_reasons
    assert snapshot.objects == baseline(everything)
    assert sum(served.state.faults.injected.values()) > 0


def test_retries_are_bounded(emulator: InProcess, everything: PolicySet) -> None:
    seeded(emulator)
    fault(emulator, kind="rate_limit", retry_after=0, field="stixCyberObservables")
    snapshot = emulator.fetch(everything, settings=settings_for(max_attempts=3))
    assert not snapshot.complete
    assert "rate limited (429) after 3 attempts" in snapshot.incomplete_reasons[0]
    assert emulator.state.requests["field:stixCyberObservables"] == 3


# --------------------------------------------------------------------------- stop


def test_a_wrong_token_raises_the_auth_error_without_the_token(
    served: Served, everything: PolicySet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seeded(served)
    with pytest.raises(OpenCTIAuthError) as caught:
        served.fetch(everything, settings=settings_for(served.url, token=SECRET))
    assert caught.value.code == "AUTH_REQUIRED"
    assert "OPENCTI_TOKEN" in str(caught.value)
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert SECRET not in text


def test_a_user_without_knowledge_gets_forbidden(everything: PolicySet) -> None:
    target = InProcess(OpenCTIConfig(tokens=("reader",), capabilities={"reader": frozenset()}))
    with pytest.raises(OpenCTIAuthError) as caught:
        target.fetch(everything, settings=settings_for(token="reader"))
    assert caught.value.code == "FORBIDDEN_ACCESS"


def test_a_read_only_user_can_fetch(everything: PolicySet) -> None:
    target = InProcess(OpenCTIConfig(tokens=("reader",), capabilities={"reader": READ_ONLY}))
    seeded(target)
    assert target.fetch(everything, settings=settings_for(token="reader")).complete


def test_a_rejected_query_is_a_bug_report_naming_the_operation(
    emulator: InProcess, everything: PolicySet
) -> None:
    fault(
        emulator,
        kind="graphql_error",
        code="UNSUPPORTED_ERROR",
        field="indicators",
        message="Incorrect filter keys not existing in any schema definition",
    )
    with pytest.raises(OpenCTIQueryError) as caught:
        emulator.fetch(everything)
    assert "OctiTaniumIndicators" in str(caught.value)
    assert "please report" in str(caught.value)


def test_the_token_stays_out_of_reprs_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(token=SECRET)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    target = InProcess()
    fault(target, kind="status", status=502)
    snapshot = target.fetch(_indicators_only(), settings=settings_for(token=SECRET))
    assert not snapshot.complete
    assert SECRET not in caplog.text and SECRET not in " ".join(snapshot.incomplete_reasons)


def test_a_server_that_echoes_the_token_is_scrubbed() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"bad header {request.headers['Authorization']}")

    settings = settings_for(token=SECRET, max_attempts=1)
    snapshot = run(
        fetch_snapshot(settings, _indicators_only(), now=NOW, transport=httpx.MockTransport(echo))
    )
    assert not snapshot.complete
    assert SECRET not in snapshot.incomplete_reasons[0]
    assert "***" in snapshot.incomplete_reasons[0]


def test_not_an_opencti_url_is_a_clear_incomplete_reason() -> None:
    def not_found(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>not here</html>")

    snapshot = run(
        fetch_snapshot(
            settings_for(), _indicators_only(), now=NOW, transport=httpx.MockTransport(not_found)
        )
    )
    assert not snapshot.complete
    assert "is OPENCTI_URL the platform root?" in snapshot.incomplete_reasons[0]
