"""`octi-tanium doctor` passes against the sandbox, fails with the right line under each switch
that breaks an assumption, and never writes (the emulator's request log proves it)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import Sandbox, json_of, tanium_sandbox

READ_ONLY = {"POST /plugin/products/threat-response/api/v1/intels/quick-add"}
"""The one non-GET doctor sends: quick-add builds a document and stores nothing."""


def doctor(box: Sandbox, fmt: str = "json") -> tuple[int, Any]:
    result = box.cli(["doctor", "--format", fmt], env={"OPENCTI_URL": ""})
    if fmt != "json":
        return result.code, result.output
    return result.code, json_of(result.output)


def failing(report: dict[str, Any]) -> list[str]:
    return [c["name"] for c in report["checks"] if c["status"] == "fail"]


def test_doctor_passes_against_the_sandbox_and_writes_nothing() -> None:
    with tanium_sandbox(seed="demo") as box:
        before = box.state()
        code, report = doctor(box)
        assert code == 0, report
        assert report["ok"] and not failing(report)
        after = box.state()
        for part in ("sources", "intels", "labels", "reputation", "deployments", "scans"):
            assert after[part] == before[part], f"doctor changed {part}"
        sent = {k for k in after["counters"]["requests"] if not k.startswith("GET ")}
        assert sent <= READ_ONLY, f"doctor wrote: {sent - READ_ONLY}"


def test_doctor_text_shows_one_line_per_check() -> None:
    with tanium_sandbox(seed="demo") as box:
        code, text = doctor(box, "text")
        assert code == 0, text
        assert "✓ Tanium: API reachable at TANIUM_URL" in text
        assert "All checks passed." in text


@pytest.mark.parametrize(
    ("switch", "line"),
    [
        ({"reputation_list_route": False}, "Reputation custom list readable"),
        ({"reputation_notes_field": "comment"}, "Reputation custom list readable"),
        ({"intel_list_description": False}, "intel list items carry description"),
        ({"trailing_slash": "forbidden"}, "intel list answers GET intels/"),
        ({"quick_add_terms": "alternate"}, "OpenIOC terms"),
    ],
    ids=lambda v: "=".join(map(str, next(iter(v.items())))) if isinstance(v, dict) else "",
)
def test_doctor_fails_with_the_right_line_under_each_broken_assumption(
    switch: dict[str, Any], line: str
) -> None:
    with tanium_sandbox(seed="demo", **switch) as box:
        code, report = doctor(box)
        assert code == 1
        assert [n for n in failing(report) if n.startswith(line)], failing(report)
        assert len(failing(report)) == 1, failing(report)
        assert all(c["fix"] for c in report["checks"] if c["status"] == "fail")


def test_doctor_names_a_wrong_token() -> None:
    with tanium_sandbox(seed="demo") as box:
        result = box.cli(
            ["doctor", "--format", "text"], env={"OPENCTI_URL": "", "TANIUM_TOKEN": "nope"}
        )
        assert result.code == 1
        assert "✗ Tanium: API reachable at TANIUM_URL" in result.output
        assert "TANIUM_TOKEN" in result.output


def test_doctor_checks_opencti_when_configured() -> None:
    from octi_sandbox.opencti import DEFAULT_TOKEN, OpenCTIConfig, create_app
    from octi_sandbox.server import serve_in_thread

    with tanium_sandbox(seed="demo") as box, serve_in_thread(create_app(OpenCTIConfig())) as url:
        result = box.cli(
            ["doctor", "--format", "json"], env={"OPENCTI_URL": url, "OPENCTI_TOKEN": DEFAULT_TOKEN}
        )
        report = json_of(result.output)
        assert result.code == 0, report
        names = [c["name"] for c in report["checks"] if c["product"] == "OpenCTI"]
        assert any(n.startswith("every query and mutation validates") for n in names)
        assert any(n.startswith("server version matches") for n in names)
