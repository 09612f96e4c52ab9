"""One writer per target, against real stores: the file lock, Redis, PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from controller.lease import (
    LeaseLost,
    LeaseNotFound,
    LockBusy,
    Target,
    acquire,
    force_release,
    status,
)
from tests.lease.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]
HOLDER = Path(__file__).with_name("holder.py")
TANIUM = "https://tanium.example.com"
TTL = 1.0


def new_target(name: str = "") -> Target:
    """A target of its own for each test: tests never see each other's leases."""
    return Target.of(TANIUM, f"OpenCTI {name} {uuid.uuid4().hex[:8]}")


@dataclass
class Child:
    """A replica in another process, holding the lease of `target`."""

    process: subprocess.Popen[str]
    holder: str
    token: int

    def ask(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()


@pytest.fixture
def spawn() -> Iterator[Callable[..., Child]]:
    children: list[subprocess.Popen[str]] = []

    def start(target: Target, ttl: float = TTL) -> Child:
        process = subprocess.Popen(
            [sys.executable, str(HOLDER), target.tanium_url, target.source, str(ttl)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        children.append(process)
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first, f"the holder process failed (exit {process.wait()})"
        took = json.loads(first)
        return Child(process, took["holder"], took["token"])

    yield start
    for process in children:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def test_the_same_target_excludes_and_other_targets_do_not(backend: Backend) -> None:
    target = new_target()
    first, second = backend.open(), backend.open()
    with acquire(target, timeout=0, ttl=TTL, store=first) as lease:
        with pytest.raises(LockBusy):
            acquire(target, timeout=0, ttl=TTL, store=second)
        with acquire(Target.of(TANIUM, target.source + " other"), timeout=0, store=second):
            pass
        with acquire(Target.of("https://other.example.com", target.source), timeout=0):
            pass
        lease.check()
    with acquire(target, timeout=0, ttl=TTL, store=second) as after:
        assert after.token > lease.token


def test_waiting_past_the_timeout_raises_lock_busy_naming_the_holder(backend: Backend) -> None:
    target = new_target()
    with acquire(target, timeout=0, ttl=TTL, store=backend.open()) as lease:
        started = time.monotonic()
        with pytest.raises(LockBusy) as busy:
            acquire(target, timeout=0.5, ttl=TTL)
        assert time.monotonic() - started >= 0.5
    assert busy.value.holder == lease.holder
    assert busy.value.exit_code == 1
    message = str(busy.value)
    assert lease.holder in message and str(target) in message
    assert f"octi-tanium lock release {lease.holder}" in message
    assert busy.value.since == lease.acquired_at


def test_a_killed_holder_is_replaced_within_the_ttl(
    backend: Backend, spawn: Callable[..., Child]
) -> None:
    target = new_target()
    child = spawn(target)
    child.process.kill()
    child.process.wait()
    started = time.monotonic()
    with acquire(target, timeout=TTL + 2, ttl=TTL) as lease:
        waited = time.monotonic() - started
        assert lease.token > child.token
    assert waited <= TTL + 0.5


def test_a_paused_holder_is_fenced_after_a_takeover(
    backend: Backend, spawn: Callable[..., Child]
) -> None:
    target = new_target()
    child = spawn(target)
    assert child.ask("check") == "held"
    child.process.send_signal(signal.SIGSTOP)
    with acquire(target, timeout=TTL + 2, ttl=TTL) as lease:
        assert lease.token > child.token
        child.process.send_signal(signal.SIGCONT)
        answer = child.ask("check")
        assert answer.startswith("lost: ") and f"token {child.token}" in answer
        time.sleep(TTL / 2)  # the resumed holder's renewal does not take the lease back
        lease.check()
        assert [i.holder for i in status(target)] == [lease.holder]


def test_renewal_keeps_a_lease_beyond_its_ttl(backend: Backend) -> None:
    target = new_target()
    with acquire(target, timeout=0, ttl=TTL, store=backend.open()) as lease:
        time.sleep(TTL * 2.2)
        lease.check()
        with pytest.raises(LockBusy):
            acquire(target, timeout=0, ttl=TTL)
        assert status(target)[0].renewed_at > lease.acquired_at


def test_force_release_frees_a_lease_by_holder_or_key_and_fences_its_holder(
    backend: Backend,
) -> None:
    one, two = new_target("one"), new_target("two")
    first = acquire(one, timeout=0, ttl=TTL, store=backend.open())
    second = acquire(two, timeout=0, ttl=TTL, store=backend.open())
    assert [i.key for i in force_release(first.holder)] == [one.key]
    assert [i.holder for i in force_release(two.key)] == [second.holder]
    for deposed in (first, second):
        with pytest.raises(LeaseLost, match="no longer has it"):
            deposed.check()
    with acquire(one, timeout=0, ttl=TTL) as successor:
        assert successor.token > first.token
    with pytest.raises(LeaseNotFound, match="lock status"):
        force_release(first.holder)
    first.release()  # a deposed holder's release leaves its successor alone
    second.release()


def test_status_lists_the_holders_with_their_tokens_and_times(backend: Backend) -> None:
    one, two = new_target("one"), new_target("two")
    with (
        acquire(one, timeout=0, ttl=TTL, store=backend.open()) as first,
        acquire(two, timeout=0, ttl=TTL, store=backend.open()) as second,
    ):
        mine = {i.key: i for i in status() if i.key in (one.key, two.key)}
        assert {k: (i.holder, i.token) for k, i in mine.items()} == {
            one.key: (first.holder, first.token),
            two.key: (second.holder, second.token),
        }
        info = mine[one.key]
        assert info.target == str(one)
        assert info.acquired_at <= info.renewed_at < info.expires_at
        assert [i.holder for i in status(two)] == [second.holder]
    assert status(one) == []


def test_tokens_stay_monotonic_when_the_store_forgets_its_counter(backend: Backend) -> None:
    """A Redis without persistence restarts empty: the token is seeded from the store's clock."""
    target = new_target()
    with acquire(target, timeout=0, ttl=TTL, store=backend.open()) as before:
        pass
    forget(backend, target)
    with acquire(target, timeout=0, ttl=TTL) as after:
        assert after.token > before.token


def forget(backend: Backend, target: Target) -> None:
    """Erase everything the store knows of `target`, as a restart without persistence does."""
    if backend.name == "file":
        (Path(os.environ["OCTI_TANIUM_STATE_DIR"]) / "locks" / f"{target.key}.json").unlink()
    elif backend.name == "redis":
        from controller.lease.redis_store import RedisStore

        store = RedisStore(backend.url or "")
        store.client.delete(*(f"{store.prefix}{k}:{target.key}" for k in ("lease", "token")))
        store.close()
    else:
        from controller.lease.postgres_store import PostgresStore

        store = PostgresStore(backend.url or "")
        store._call(
            lambda c: c.execute("DELETE FROM octi_tanium_leases WHERE key = %s", [target.key])
        )
        store.close()
