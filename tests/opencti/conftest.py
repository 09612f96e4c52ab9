"""Fixtures for the OpenCTI source and emulator: policies, settings, emulators (in-process and
over real HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from octi_sandbox.opencti import DEFAULT_TOKEN, OpenCTIConfig, create_app
from octi_sandbox.opencti.state import OpenCTIState
from octi_sandbox.server import serve_in_thread as serve

from controller.core.diagnostics import Position
from controller.core.model import SourceSnapshot
from controller.policy.loader import Located, PolicySet, load_policies
from controller.policy.models import IntelPolicy
from controller.sources.opencti import OpenCTISettings, fetch_snapshot

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def policy_set(*selects: dict[str, Any]) -> PolicySet:
    """One IntelPolicy per `select` (camelCase keys, as in YAML)."""
    located = []
    for i, select in enumerate(selects):
        doc = IntelPolicy.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "IntelPolicy",
                "metadata": {"name": f"p{i}"},
                "spec": {"select": select, "target": {"intel": {}}},
            }
        )
        located.append(Located(doc, Position("test.yaml", i + 1, 1)))
    return PolicySet(intel_policies=tuple(located))


@pytest.fixture(scope="session")
def everything() -> PolicySet:
    result = load_policies(ROOT / "desired" / "everything.yaml")
    assert result.ok, result.diagnostics
    return result.policies


def settings_for(url: str = "http://opencti.test", **overrides: Any) -> OpenCTISettings:
    values: dict[str, Any] = {
        "url": url,
        "token": DEFAULT_TOKEN,
        "retry_backoff": 0.001,
        "retry_max_delay": 0.01,
        "max_attempts": 4,
        "timeout": 5.0,
    }
    values.update(overrides)
    return OpenCTISettings(**values)


class InProcess:
    """An emulator mounted in-process (httpx.ASGITransport): fast, no socket."""

    def __init__(self, config: OpenCTIConfig | None = None) -> None:
        self.app = create_app(config)
        self.state: OpenCTIState = self.app.state.opencti

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)

    def fetch(self, policies: PolicySet, **kwargs: Any) -> SourceSnapshot:
        settings = kwargs.pop("settings", None) or settings_for()
        return run(
            fetch_snapshot(settings, policies, now=NOW, transport=self.transport(), **kwargs)
        )

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = DEFAULT_TOKEN,
        operation: str | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation:
            body["operationName"] = operation

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=self.transport(), base_url="http://opencti.test"
            ) as client:
                return await client.post("/graphql", json=body, headers=headers)

        return run(go())


@pytest.fixture
def emulator() -> InProcess:
    return InProcess()


class Served:
    """One emulator over real HTTP for a whole module; `fresh()` resets it between tests."""

    def __init__(self, url: str, state: OpenCTIState) -> None:
        self.url = url
        self.state = state

    def fresh(self) -> Served:
        self.state.reset()
        return self

    def fetch(self, policies: PolicySet, **kwargs: Any) -> SourceSnapshot:
        settings = kwargs.pop("settings", None) or settings_for(self.url)
        return run(fetch_snapshot(settings, policies, now=NOW, **kwargs))


@pytest.fixture(scope="module")
def served_module() -> Iterator[Served]:
    app = create_app()
    with serve(app) as url:
        yield Served(url, app.state.opencti)


@pytest.fixture
def served(served_module: Served) -> Served:
    return served_module.fresh()
