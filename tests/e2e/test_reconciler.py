"""The scheduled reconciler's HTTP face: health, readiness after a first pass, metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from controller.run import Reconciler
from tests.conftest import CORPUS
from tests.e2e.harness import TOKEN, tanium_sandbox
from tests.e2e.test_convergence import EVERYTHING

BUNDLE = CORPUS / "stix/bundles/oasis-cti-stix2-json-schemas/threat-report-poisonivy.json"


def test_readiness_follows_the_first_pass_and_metrics_count_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tanium_sandbox() as box:
        monkeypatch.setenv("TANIUM_URL", box.url)
        monkeypatch.setenv("TANIUM_TOKEN", TOKEN)
        monkeypatch.setenv("OCTI_TANIUM_STATE_DIR", str(tmp_path))
        reconciler = Reconciler(EVERYTHING, f"bundle:{BUNDLE}")

        async def scenario() -> tuple[int, int, int, str]:
            transport = httpx.ASGITransport(app=reconciler.app())
            async with httpx.AsyncClient(transport=transport, base_url="http://r") as web:
                before = (await web.get("/readyz")).status_code
                await reconciler.tick()
                after = (await web.get("/readyz")).status_code
                health = (await web.get("/healthz")).status_code
                metrics = (await web.get("/metrics")).text
            return before, after, health, metrics

        try:
            before, after, health, metrics = asyncio.run(scenario())
        finally:
            reconciler.close()  # gives the lease back
        assert (before, after, health) == (503, 200, 200)
        assert reconciler.last_code == 0
        assert 'octi_tanium_passes_total{outcome="ok"}' in metrics
        assert 'octi_tanium_items_total{action="create",kind="intel",status="ok"}' in metrics
        assert len(box.state()["intels"]) > 0
