"""The OpenIOC terms come from the tenant's quick-add: a tenant whose quick-add emits other
terms gets documents with those terms, learned once, recorded in the plan's inputs."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING, managed_docs
from tests.e2e.test_switches import DEMO

SOURCE = f"bundle:{DEMO}"
APPLY = ["apply", "--policies", str(EVERYTHING), "--source", SOURCE, "--auto-approve"]
PLAN = ["plan", "--policies", str(EVERYTHING), "--source", SOURCE, "--detailed-exitcode"]
QUICK_ADD = "POST /plugin/products/threat-response/api/v1/intels/quick-add"


def contents(state: dict[str, Any]) -> str:
    return "\n".join(d.get("contents") or "" for d in managed_docs(state))


def test_a_tenant_with_other_quick_add_terms_gets_documents_with_its_terms() -> None:
    with tanium_sandbox(seed="demo", quick_add_terms="alternate") as box:
        applied = box.cli(APPLY)
        assert applied.code == 0, applied.output
        held = contents(box.state())
        assert 'search="Network/RemoteIP"' in held and 'document="Network"' in held
        assert 'search="FileItem/FileSha256"' in held and 'search="DnsEntryItem/Host"' in held
        assert "PortItem/remoteIP" not in held and "FileItem/Sha256sum" not in held
        assert "UrlHistoryItem/URL" in held  # no quick-add type for URLs: the renderer's term
        plan = box.plan_json(EVERYTHING, SOURCE)
        assert "PortItem/remoteIP=Network/RemoteIP" in plan["inputs"]["openioc_terms"]
        again = box.cli(PLAN)
        assert again.code == 0, again.output
        assert box.state()["counters"]["requests"][QUICK_ADD] == 2, "learned more than once"


def test_default_terms_are_rendered_as_before_and_recorded_as_such() -> None:
    with tanium_sandbox(seed="demo") as box:
        assert box.cli(APPLY).code == 0
        assert 'search="PortItem/remoteIP"' in contents(box.state())
        assert box.plan_json(EVERYTHING, SOURCE)["inputs"]["openioc_terms"] == ""


def test_without_quick_add_the_renderer_terms_are_the_fallback() -> None:
    with tanium_sandbox(seed="demo", quick_add_terms="alternate") as box:
        box.post("/__sandbox/faults", [{"kind": "error", "status": 404, "route": "*/quick-add"}])
        plan = box.plan_json(EVERYTHING, SOURCE)
        assert plan["inputs"]["openioc_terms"] == ""
        assert any("PortItem/remoteIP" in str(i.get("desired")) for i in plan["items"])
