"""Connection mistakes are explained on the first attempt, never retried six times."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from controller.retry import RetryPolicy
from controller.tanium.client import TaniumClient
from controller.tanium.errors import AuthError, TaniumError
from tests.e2e.harness import TOKEN, tanium_sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Plain(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def plain_http() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), _Plain)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def failure(url: str, token: str = TOKEN) -> tuple[TaniumError, int]:
    client = TaniumClient(url, token, retry=RetryPolicy(max_attempts=6, base_delay=0.001))

    async def go() -> None:
        async with client:
            await client.list_sources()

    with pytest.raises(TaniumError) as caught:
        asyncio.run(go())
    return caught.value, client.requests_sent


def test_https_to_a_plain_http_port_is_explained_at_once() -> None:
    with plain_http() as port:
        error, sent = failure(f"https://127.0.0.1:{port}")
    assert "does not answer TLS" in str(error) and "TANIUM_URL" in str(error)
    assert sent == 1 and not error.temporary


def test_an_unknown_host_is_explained_at_once() -> None:
    error, sent = failure("https://no-such-host.invalid")
    assert "does not resolve" in str(error) and sent == 1


def test_a_refused_connection_is_explained_and_retried() -> None:
    """A server restarting refuses connections for a moment: retried, then explained."""
    error, sent = failure(f"http://127.0.0.1:{free_port()}")
    assert "connection refused" in str(error) and "check the port" in str(error)
    assert sent == 6 and error.temporary


def test_a_wrong_base_url_says_what_was_expected() -> None:
    with plain_http() as port:
        error, sent = failure(f"http://127.0.0.1:{port}/api")
    assert "looks wrong" in str(error) and "https://tanium.example.com" in str(error)
    assert sent == 1 and error.fatal


def test_401_names_the_token_setting_and_403_the_permission() -> None:
    with tanium_sandbox(tokens={TOKEN: {"alerts:read"}}) as box:
        error, _ = failure(box.url, "wrong-token")
        assert isinstance(error, AuthError) and "TANIUM_TOKEN" in str(error)
        client = TaniumClient(box.url, TOKEN, retry=RetryPolicy(max_attempts=1))

        async def deploy() -> None:
            async with client:
                await client.deploy()

        with pytest.raises(AuthError) as caught:
            asyncio.run(deploy())
        assert "deploy intel" in str(caught.value)


def test_opencti_explains_https_to_a_plain_http_port_at_once() -> None:
    from controller.sources.opencti.client import GraphQLClient
    from controller.sources.opencti.errors import OpenCTIError
    from controller.sources.opencti.queries import ABOUT
    from controller.sources.opencti.settings import OpenCTISettings

    with plain_http() as port:
        settings = OpenCTISettings(url=f"https://127.0.0.1:{port}", token="t", retry_backoff=0.001)

        async def about() -> None:
            async with GraphQLClient(settings) as client:
                await client.execute(ABOUT)

        with pytest.raises(OpenCTIError) as caught:
            asyncio.run(about())
    assert "OPENCTI_URL" in str(caught.value) and "does not answer TLS" in str(caught.value)
    assert caught.value.fatal
