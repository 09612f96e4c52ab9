"""Fault injection, over a real uvicorn server (and the in-process fallbacks)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from octi_sandbox.tanium import (
    DEFAULT_TOKEN,
    ConnectionClosedByFault,
    ConnectionResetByFault,
    TaniumEmulator,
)

from .conftest import TR, Api

Served = tuple[str, TaniumEmulator]


@pytest.fixture
def http(tanium_server: Served) -> Iterator[httpx.Client]:
    url, _ = tanium_server
    with httpx.Client(base_url=url, headers={"session": DEFAULT_TOKEN}, timeout=5) as client:
        yield client


def _faults(http: httpx.Client, body: Any) -> Any:
    response = http.post("/__sandbox/faults", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_rate_limit_answers_429_with_retry_after(http: httpx.Client) -> None:
    _faults(http, {"kind": "rate_limit", "route": TR + "/sources", "retryAfter": 7, "times": 1})
    response = http.get(TR + "/sources")
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert response.json() == {"text": "Too Many Requests"}
    assert http.get(TR + "/sources").status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_error_fault_answers_the_5xx_status(http: httpx.Client, status: int) -> None:
    _faults(http, {"kind": "error", "status": status, "route": TR + "/intels"})
    assert http.get(TR + "/intels").status_code == status


def test_error_fault_can_answer_a_proxy_html_page(http: httpx.Client) -> None:
    _faults(http, {"kind": "error", "status": 502, "body": "<html>Bad Gateway</html>"})
    response = http.get(TR + "/intels")
    assert response.status_code == 502 and response.headers["content-type"] == "text/html"


def test_reset_drops_the_connection_without_answer(http: httpx.Client) -> None:
    _faults(http, {"kind": "reset", "route": TR + "/sources", "times": 1})
    with pytest.raises(httpx.ReadError):
        http.get(TR + "/sources")
    assert http.get(TR + "/sources").status_code == 200


def test_close_drops_the_connection_with_a_protocol_error(http: httpx.Client) -> None:
    _faults(http, {"kind": "close", "times": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(TR + "/sources")


def test_truncate_sends_a_partial_body_then_closes(http: httpx.Client) -> None:
    _faults(http, {"kind": "truncate", "times": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(TR + "/intels")


def test_fixed_latency_delays_the_answer(http: httpx.Client) -> None:
    _faults(http, {"kind": "latency", "latencyMs": 150, "times": 1})
    started = time.monotonic()
    assert http.get(TR + "/sources").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_random_latency_stays_in_its_range(tanium_server: Served, http: httpx.Client) -> None:
    _, emulator = tanium_server
    _faults(http, {"kind": "latency", "latencyMs": 20, "latencyMaxMs": 60, "times": 3})
    for _ in range(3):
        started = time.monotonic()
        http.get(TR + "/sources")
        assert 0.02 <= time.monotonic() - started < 1.0
    assert emulator.faults.rules == []


def test_fail_the_next_n_calls_then_recover(http: httpx.Client) -> None:
    _faults(http, {"kind": "error", "status": 503, "times": 2})
    assert [http.get(TR + "/sources").status_code for _ in range(3)] == [503, 503, 200]


def test_after_lets_the_first_calls_through(http: httpx.Client) -> None:
    _faults(http, {"kind": "error", "after": 2, "times": 1})
    assert [http.get(TR + "/sources").status_code for _ in range(4)] == [200, 200, 503, 200]


def test_seeded_probability_is_reproducible(tanium_server: Served, http: httpx.Client) -> None:
    def pattern() -> list[int]:
        _faults(
            http, {"clear": True, "seed": 42, "faults": [{"kind": "error", "probability": 0.3}]}
        )
        return [http.get(TR + "/sources").status_code for _ in range(40)]

    first, second = pattern(), pattern()
    assert first == second
    assert 3 <= first.count(503) <= 25


def test_method_and_glob_select_the_faulted_calls(http: httpx.Client) -> None:
    _faults(http, [{"kind": "error", "route": TR + "/intels/*", "method": "GET"}])
    assert http.get(TR + "/intels").status_code == 200  # the glob needs "/intels/<something>"
    assert http.get(TR + "/intels/1").status_code == 503
    assert http.delete(TR + "/intels/1").status_code == 404


def test_prefix_route_matches_everything_below(http: httpx.Client) -> None:
    _faults(http, {"kind": "error", "route": "/plugin/products/reputation"})
    assert http.get("/plugin/products/reputation/v3/reputations/custom").status_code == 503
    assert http.get(TR + "/sources").status_code == 200


def test_sandbox_routes_are_never_faulted(http: httpx.Client) -> None:
    _faults(http, {"kind": "reset"})
    assert http.get("/__sandbox/state").status_code == 200
    assert http.delete("/__sandbox/faults").json() == {"faults": []}
    assert http.get(TR + "/sources").status_code == 200


def test_faults_are_listed_with_hits_and_counted(tanium_server: Served, http: httpx.Client) -> None:
    _faults(http, {"kind": "error", "times": 3})
    http.get(TR + "/sources")
    listed = http.get("/__sandbox/faults").json()
    assert listed["faults"][0]["hits"] == 1 and listed["faults"][0]["remaining"] == 2
    assert http.get("/__sandbox/state").json()["counters"]["faults"] == 1


def test_invalid_fault_rule_is_400(http: httpx.Client) -> None:
    assert http.post("/__sandbox/faults", json={"kind": "explode"}).status_code == 400
    assert (
        http.post("/__sandbox/faults", json={"kind": "error", "probability": 2}).status_code == 400
    )


def test_reset_clears_the_faults(tanium_server: Served, http: httpx.Client) -> None:
    _faults(http, {"kind": "error"})
    http.post("/__sandbox/reset")
    assert http.get(TR + "/sources").status_code == 200


def test_in_process_reset_raises_an_httpx_read_error(tanium: Api) -> None:
    tanium.emulator.add_fault({"kind": "reset", "times": 1})
    with pytest.raises(ConnectionResetByFault) as caught:
        tanium.get(TR + "/sources")
    assert isinstance(caught.value, httpx.ReadError)


def test_in_process_truncate_raises_an_httpx_protocol_error(tanium: Api) -> None:
    tanium.emulator.add_fault({"kind": "truncate", "times": 1})
    with pytest.raises(ConnectionClosedByFault) as caught:
        tanium.get(TR + "/sources")
    assert isinstance(caught.value, httpx.RemoteProtocolError)


def test_in_process_status_faults_answer_normally(tanium: Api) -> None:
    tanium.emulator.add_fault({"kind": "rate_limit", "retry_after": 0.5, "times": 1})
    response = tanium.get(TR + "/sources")
    assert response.status_code == 429 and response.headers["retry-after"] == "0.5"
