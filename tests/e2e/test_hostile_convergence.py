"""Property: plan → apply → plan converges for generated indicators, hostile strings included
(non-Latin-1, CR/LF, control characters, very long text), and Tanium never receives a request
it rejects as malformed: any 4xx (or a header the client itself refuses to send) fails that
apply item, and `apply` then exits 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.harness import Sandbox, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20),
    st.sampled_from(
        [
            "Ünïcödé 名前 🦠",
            "line\r\nbreak",
            "tab\there\x00nul",
            "a" * 5000,
            "quote ' and \" and \\",
            "<xml>&amp;</xml>",
            "​zero-width",
        ]
    ),
)
label = st.text(
    alphabet=st.characters(categories=("L", "N"), max_codepoint=0x2FF), min_size=1, max_size=12
)
YARA = 'rule r{n} {{ strings: $a = "evil{n}" condition: $a }}'
SIGNAL = "process.name equals 'evil{n}.exe'"


@st.composite
def indicators(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=6))
    out = []
    for n in range(count):
        kind = draw(st.sampled_from(["ipv4", "domain", "url", "sha256", "yara", "signal"]))
        pattern_type, pattern = "stix", ""
        if kind == "ipv4":
            pattern = f"[ipv4-addr:value = '198.51.100.{n + 1}']"
        elif kind == "domain":
            pattern = f"[domain-name:value = 'host{n}.example']"
        elif kind == "url":
            pattern = f"[url:value = 'http://host{n}.example/a?b=c']"
        elif kind == "sha256":
            pattern = f"[file:hashes.'SHA-256' = '{n:064x}']"
        elif kind == "yara":
            pattern_type, pattern = "yara", YARA.format(n=n)
        else:
            pattern_type, pattern = "tanium-signal", SIGNAL.format(n=n)
        out.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{n:08d}-1111-4000-8000-000000000000",
                "created": "2026-01-01T00:00:00Z",
                "modified": "2026-01-01T00:00:00Z",
                "name": draw(hostile_text),
                "description": draw(hostile_text),
                "labels": draw(st.lists(label, max_size=3)),
                "pattern": pattern,
                "pattern_type": pattern_type,
                "valid_from": "2026-01-01T00:00:00Z",
            }
        )
    return out


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with tanium_sandbox() as sandbox:
        yield sandbox


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(objects=indicators())
def test_generated_indicators_converge_and_no_request_is_malformed(
    box: Sandbox, tmp_path_factory: pytest.TempPathFactory, objects: list[dict[str, Any]]
) -> None:
    httpx.post(f"{box.url}/__sandbox/reset", json={}).raise_for_status()
    bundle = tmp_path_factory.mktemp("hostile") / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    source = f"bundle:{bundle}"
    applied = box.cli(
        ["apply", "--policies", str(EVERYTHING), "--source", source, "--auto-approve"]
    )
    assert applied.code == 0, applied.output
    again = box.cli(
        ["plan", "--policies", str(EVERYTHING), "--source", source, "--detailed-exitcode"]
    )
    assert again.code == 0, again.output
    docs = box.state()["intels"]
    assert len(docs) == len({d["intrinsicId"] for d in docs}), "duplicate documents"
