"""Transport facts of the Tanium emulator: `session` auth, permissions, envelope, errors."""

from __future__ import annotations

from typing import Any

import pytest
from octi_sandbox.tanium import TaniumConfig

from .conftest import REP, TR, Api


def test_missing_session_header_is_401_unauthorized(make_tanium: Any) -> None:
    anonymous: Api = make_tanium(token=None)
    response = anonymous.get(TR + "/sources")
    assert response.status_code == 401
    assert response.json() == {"text": "Unauthorized"}


def test_unknown_token_is_401_unauthorized(make_tanium: Any) -> None:
    stranger: Api = make_tanium(token="token-unknown")
    response = stranger.get(TR + "/intels")
    assert (response.status_code, response.json()) == (401, {"text": "Unauthorized"})


def test_authorization_bearer_header_is_not_accepted(make_tanium: Any) -> None:
    bearer: Api = make_tanium(token=None)
    response = bearer.get(TR + "/sources", headers={"Authorization": "Bearer token-sandbox"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", TR + "/sources", {"name": "x"}),
        ("POST", TR + "/intel/deploy", None),
        ("POST", TR + "/on-demand-scans", {"computerGroupId": 1, "intelDocId": 1}),
        ("POST", REP + "/upload", [{"md5": "0" * 32}]),
        ("GET", TR + "/alerts", None),
    ],
)
def test_token_lacking_the_permission_is_403_forbidden(
    make_tanium: Any, method: str, path: str, body: Any
) -> None:
    config = TaniumConfig(tokens={"token-readonly": set()})
    reader: Api = make_tanium(config, token="token-readonly")
    response = reader.request(method, path, json=body)
    assert (response.status_code, response.json()) == (403, {"text": "Forbidden"})


def test_token_without_permissions_can_still_read_intel(make_tanium: Any) -> None:
    reader: Api = make_tanium(TaniumConfig(tokens={"token-readonly": set()}), "token-readonly")
    assert reader.get(TR + "/intels").status_code == 200


def test_token_with_only_intel_write_cannot_deploy(make_tanium: Any) -> None:
    writer: Api = make_tanium(TaniumConfig(tokens={"token-w": {"intel:write"}}), "token-w")
    assert writer.post(TR + "/sources", json={"name": "OpenCTI"}).status_code == 200
    assert writer.post(TR + "/intel/deploy").status_code == 403


def test_login_returns_a_session_that_authenticates(make_tanium: Any) -> None:
    anonymous: Api = make_tanium(token=None)
    response = anonymous.post(
        "/api/v2/session/login", json={"username": "admin", "password": "admin"}
    )
    session = response.json()["data"]["session"]
    assert session.startswith("token-")
    current = anonymous.get("/api/v2/session/current", headers={"session": session})
    assert current.status_code == 200 and "id" in current.json()["data"]


def test_login_with_a_wrong_password_is_401(make_tanium: Any) -> None:
    anonymous: Api = make_tanium(token=None)
    response = anonymous.post("/api/v2/session/login", json={"username": "admin", "password": "x"})
    assert response.status_code == 401


def test_session_current_without_token_is_401(make_tanium: Any) -> None:
    assert make_tanium(token=None).get("/api/v2/session/current").status_code == 401


def test_expired_login_session_is_403_until_a_new_login(make_tanium: Any) -> None:
    anonymous: Api = make_tanium(token=None)
    credentials = {"username": "admin", "password": "admin"}
    old = anonymous.data("POST", "/api/v2/session/login", json=credentials)["session"]
    anonymous.post("/__sandbox/expire-sessions")
    assert anonymous.get(TR + "/sources", headers={"session": old}).status_code == 403
    new = anonymous.data("POST", "/api/v2/session/login", json=credentials)["session"]
    assert anonymous.get(TR + "/sources", headers={"session": new}).status_code == 200


def test_session_ttl_expires_login_sessions(make_tanium: Any) -> None:
    anonymous: Api = make_tanium(token=None, session_ttl_seconds=0)
    credentials = {"username": "admin", "password": "admin"}
    token = anonymous.data("POST", "/api/v2/session/login", json=credentials)["session"]
    assert anonymous.get(TR + "/sources", headers={"session": token}).status_code == 403


def test_success_has_data_envelope_and_exact_json_content_type(tanium: Api) -> None:
    response = tanium.get(TR + "/sources")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": []}


def test_charset_switch_appends_utf8_charset(make_tanium: Any) -> None:
    response = make_tanium(json_charset=True).get(TR + "/sources")
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_unknown_route_is_404_not_found_json(tanium: Api) -> None:
    response = tanium.get(TR + "/nothing-here")
    assert (response.status_code, response.json()) == (404, {"text": "not found"})
    assert response.headers["content-type"] == "application/json"


def test_unknown_intel_is_404_not_found(tanium: Api) -> None:
    response = tanium.get(TR + "/intels/999")
    assert (response.status_code, response.json()) == (404, {"text": "not found"})


def test_bad_request_has_text_and_errors_description(tanium: Api) -> None:
    response = tanium.post(
        TR + "/sources", content=b"{not json", headers={"content-type": "application/json"}
    )
    body = response.json()
    assert response.status_code == 400
    assert set(body) == {"text", "errors"}
    assert body["errors"] == [{"description": body["text"]}]
    assert "malformed JSON" in body["text"]


def test_collection_routes_answer_with_and_without_trailing_slash(tanium: Api) -> None:
    assert tanium.get(TR + "/intels").status_code == 200
    assert tanium.get(TR + "/intels/").status_code == 200
    assert tanium.get(TR + "/labels/").status_code == 200


def test_detect3_routes_are_absent_by_default(tanium: Api) -> None:
    assert tanium.get("/plugin/products/detect3/api/v1/intels").status_code == 404


def test_detect3_switch_serves_bare_payloads(make_tanium: Any) -> None:
    d3: Api = make_tanium(detect3_routes=True)
    source = d3.post("/plugin/products/detect3/api/v1/sources", json={"name": "OpenCTI"}).json()
    assert source["name"] == "OpenCTI" and "data" not in source
    assert d3.get("/plugin/products/detect3/api/v1/sources").json() == [source]


def test_in_process_app_exposes_its_emulator_state(tanium: Api) -> None:
    tanium.source("OpenCTI")
    assert [s.name for s in tanium.app.state.tanium.state.sources.values()] == ["OpenCTI"]


def test_detect3_switch_serves_the_legacy_quick_scans_route(make_tanium: Any) -> None:
    d3: Api = make_tanium(detect3_routes=True)
    doc = d3.upload(d3.source(), b"rule r { condition: true }", type="yara").json()["data"]
    body = {"computerGroupId": 1, "intelDocId": doc["id"]}
    scan = d3.post("/plugin/products/detect3/api/v1/quick-scans/", json=body).json()
    assert scan["intelDocId"] == doc["id"] and "data" not in scan
