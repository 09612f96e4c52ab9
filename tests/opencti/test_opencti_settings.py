"""OPENCTI_* settings: clear errors, token files, TLS."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from controller.sources.opencti import OpenCTISettings, OpenCTISettingsError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("OPENCTI_"):
            monkeypatch.delenv(key)


def test_a_missing_url_says_what_to_do() -> None:
    with pytest.raises(
        OpenCTISettingsError,
        match=r"OPENCTI_URL is not set; OPENCTI_TOKEN is not set .*: export it",
    ):
        OpenCTISettings.from_env()


def test_a_missing_token_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCTI_URL", "https://opencti.example")
    with pytest.raises(OpenCTISettingsError, match="OPENCTI_TOKEN is not set"):
        OpenCTISettings.from_env()


def test_the_token_can_come_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("  abc-123\n", encoding="utf-8")
    monkeypatch.setenv("OPENCTI_URL", "https://opencti.example/graphql/")
    monkeypatch.setenv("OPENCTI_TOKEN_FILE", str(token))
    settings = OpenCTISettings.from_env()
    assert settings.token.get_secret_value() == "abc-123"
    assert settings.graphql_url == "https://opencti.example/graphql"
    assert "abc-123" not in repr(settings)


def test_an_unreadable_or_empty_token_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENCTI_URL", "https://opencti.example")
    monkeypatch.setenv("OPENCTI_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(OpenCTISettingsError, match="cannot be read"):
        OpenCTISettings.from_env()
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    monkeypatch.setenv("OPENCTI_TOKEN_FILE", str(tmp_path / "empty"))
    with pytest.raises(OpenCTISettingsError, match="is empty"):
        OpenCTISettings.from_env()


def test_malformed_values_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCTI_URL", "opencti.example")
    monkeypatch.setenv("OPENCTI_TOKEN", "t")
    with pytest.raises(OpenCTISettingsError, match="must start with https://"):
        OpenCTISettings.from_env()
    monkeypatch.setenv("OPENCTI_URL", "https://opencti.example")
    monkeypatch.setenv("OPENCTI_PAGE_SIZE", "6000")
    with pytest.raises(OpenCTISettingsError, match="OPENCTI_PAGE_SIZE"):
        OpenCTISettings.from_env()


def test_tls_verification_is_on_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENCTI_URL", "https://opencti.example")
    monkeypatch.setenv("OPENCTI_TOKEN", "t")
    default = OpenCTISettings.from_env().verify()
    assert isinstance(default, ssl.SSLContext)
    assert default.verify_mode == ssl.CERT_REQUIRED and default.check_hostname
    assert default.cert_store_stats()["x509_ca"] > 0  # httpx's default trust store (certifi)
    assert OpenCTISettings.from_env().verify() is default  # built once, shared by every client
    monkeypatch.setenv("OPENCTI_VERIFY_TLS", "false")
    assert OpenCTISettings.from_env().verify() is False
    monkeypatch.setenv("OPENCTI_VERIFY_TLS", "true")
    monkeypatch.setenv("OPENCTI_CA_BUNDLE", str(tmp_path / "nope.pem"))
    with pytest.raises(OpenCTISettingsError, match="OPENCTI_CA_BUNDLE"):
        OpenCTISettings.from_env().verify()
    certifi = pytest.importorskip("certifi")
    monkeypatch.setenv("OPENCTI_CA_BUNDLE", certifi.where())
    pinned = OpenCTISettings.from_env().verify()
    assert isinstance(pinned, ssl.SSLContext) and pinned is not default
    assert OpenCTISettings.from_env().verify() is pinned


def test_a_ca_bundle_changed_on_disk_is_loaded_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    certifi = pytest.importorskip("certifi")
    bundle = tmp_path / "ca.pem"
    text = Path(certifi.where()).read_text(encoding="ascii")
    first = text.split("-----END CERTIFICATE-----", 1)[0] + "-----END CERTIFICATE-----\n"
    bundle.write_text(first, encoding="ascii")
    monkeypatch.setenv("OPENCTI_URL", "https://opencti.example")
    monkeypatch.setenv("OPENCTI_TOKEN", "t")
    monkeypatch.setenv("OPENCTI_CA_BUNDLE", str(bundle))
    before = OpenCTISettings.from_env().verify()
    assert isinstance(before, ssl.SSLContext) and before.cert_store_stats()["x509_ca"] == 1
    bundle.write_text(text, encoding="ascii")  # rotated: more CAs, another size
    after = OpenCTISettings.from_env().verify()
    assert isinstance(after, ssl.SSLContext) and after is not before
    assert after.cert_store_stats()["x509_ca"] > 1
