"""Fixtures for the emulator tests: an in-process client over `httpx.ASGITransport`, a real
uvicorn server, and the corpus of real Tanium answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from octi_sandbox.server import serve_in_thread
from octi_sandbox.tanium import DEFAULT_TOKEN, TaniumConfig, TaniumEmulator, create_app
from starlette.applications import Starlette

from tests.corpus_files import corpus_file

TR = "/plugin/products/threat-response/api/v1"
REP = "/plugin/products/reputation/v3/reputations/custom"


def corpus_json(relative: str) -> Any:
    """A JSON file of the real Tanium answers in tests/corpus/tanium/."""
    return json.loads(corpus_bytes(relative))


def corpus_bytes(relative: str) -> bytes:
    return corpus_file(f"tanium/{relative}").read_bytes()


class Api:
    """A synchronous facade over `httpx.AsyncClient(transport=ASGITransport(app))`."""

    def __init__(self, app: Starlette, token: str | None = DEFAULT_TOKEN) -> None:
        self.app = app
        self.emulator: TaniumEmulator = app.state.tanium
        self.loop = asyncio.new_event_loop()
        headers = {"session": token} if token else {}
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tanium.test", headers=headers
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def data(self, method: str, url: str, **kwargs: Any) -> Any:
        """The `data` of a 200 answer (fails the test otherwise)."""
        response = self.request(method, url, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()["data"]

    def source(self, name: str = "OpenCTI") -> int:
        body = {"type": "api-client", "name": name, "description": "test"}
        return int(self.data("POST", TR + "/sources", json=body)["id"])

    def upload(self, source_id: int, body: bytes, **headers: str) -> httpx.Response:
        return self.post(f"{TR}/sources/{source_id}/intels", content=body, headers=headers)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def make_tanium() -> Iterator[Any]:
    made: list[Api] = []

    def make(
        config: TaniumConfig | None = None,
        token: str | None = DEFAULT_TOKEN,
        *,
        emulator: TaniumEmulator | None = None,
        **switches: Any,
    ) -> Api:
        """An in-process client of a fresh emulator (config, or switches as keywords)."""
        if emulator is not None:
            app = create_app(emulator=emulator)
        else:
            app = create_app(config or TaniumConfig(**switches))
        made.append(Api(app, token))
        return made[-1]

    yield make
    for api in made:
        api.close()


@pytest.fixture
def tanium(make_tanium: Any) -> Api:
    result: Api = make_tanium()
    return result


@pytest.fixture(scope="module")
def tanium_served() -> Iterator[tuple[str, TaniumEmulator]]:
    """One real uvicorn server per test module: (base URL, emulator)."""
    app = create_app()
    with serve_in_thread(app) as url:
        yield url, app.state.tanium


@pytest.fixture
def tanium_server(
    tanium_served: tuple[str, TaniumEmulator],
) -> Iterator[tuple[str, TaniumEmulator]]:
    url, emulator = tanium_served
    emulator.reset()
    yield url, emulator
    emulator.reset()
