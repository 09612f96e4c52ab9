"""Targets, the environment, and the errors a broken configuration gives."""

from __future__ import annotations

import pytest

from controller.lease import (
    LockConfigError,
    LockStoreUnavailable,
    Target,
    lock_ttl,
    open_store,
    redact,
)
from controller.lease.file_store import FileStore


def test_one_tanium_written_differently_is_one_target() -> None:
    a = Target.of("https://admin:secret@Tanium.Example.COM:443/", "OpenCTI")
    b = Target.of("https://tanium.example.com", "OpenCTI")
    assert a == b and a.key == b.key and "secret" not in a.tanium_url
    assert len(a.key) == 24


def test_another_source_or_port_is_another_target() -> None:
    base = Target.of("https://tanium.example.com", "OpenCTI")
    assert Target.of("https://tanium.example.com", "OpenCTI 2").key != base.key
    assert Target.of("https://tanium.example.com:8443", "OpenCTI").key != base.key


def test_an_unset_lock_url_is_the_file_lock_in_the_state_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("OCTI_TANIUM_STATE_DIR", str(tmp_path))
    store = open_store()
    assert isinstance(store, FileStore) and store.directory == tmp_path / "locks"


def test_an_unknown_scheme_is_refused_without_its_password() -> None:
    with pytest.raises(LockConfigError, match="unknown scheme 'etcd'") as error:
        open_store("etcd://root:hunter2@etcd:2379")
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    "url",
    ["redis://:hunter2@127.0.0.1:1/0", "postgresql://postgres:hunter2@127.0.0.1:1/test"],
)
def test_an_unreachable_store_is_one_line_naming_the_url_without_password(url: str) -> None:
    with pytest.raises(LockStoreUnavailable) as error:
        open_store(url).leases()
    message = str(error.value)
    assert "hunter2" not in message and "\n" not in message
    assert message.startswith(f"cannot reach the lock store {redact(url)}: ")
    assert "127.0.0.1:1" in redact(url) or "127.0.0.1" in message


def test_the_ttl_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert lock_ttl() == 30.0
    monkeypatch.setenv("OCTI_TANIUM_LOCK_TTL", "12.5")
    assert lock_ttl() == 12.5
    monkeypatch.setenv("OCTI_TANIUM_LOCK_TTL", "soon")
    with pytest.raises(LockConfigError, match="OCTI_TANIUM_LOCK_TTL='soon'"):
        lock_ttl()
