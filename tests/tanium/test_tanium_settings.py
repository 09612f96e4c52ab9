"""Settings from the environment: URL, token or token file, TLS options, clear errors."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from tanium_fakes import TOKEN

from controller.tanium import TaniumClient, TaniumSettings, TaniumSettingsError

ENV = ("TANIUM_URL", "TANIUM_TOKEN", "TANIUM_TOKEN_FILE", "TANIUM_VERIFY_TLS", "TANIUM_CA_BUNDLE")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_url_and_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANIUM_URL", "https://tenant-api.example.com/")
    monkeypatch.setenv("TANIUM_TOKEN", TOKEN)
    settings = TaniumSettings.from_env()
    assert settings.url == "https://tenant-api.example.com"
    assert settings.token.get_secret_value() == TOKEN
    verify = settings.verify()
    assert isinstance(verify, ssl.SSLContext) and verify.verify_mode == ssl.CERT_REQUIRED
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


def test_token_file_is_read_and_stripped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(f"  {TOKEN}\n")
    monkeypatch.setenv("TANIUM_URL", "http://127.0.0.1:8443")
    monkeypatch.setenv("TANIUM_TOKEN_FILE", str(tmp_path / "token"))
    assert TaniumSettings.from_env().token.get_secret_value() == TOKEN


def test_missing_url_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANIUM_TOKEN", TOKEN)
    with pytest.raises(TaniumSettingsError, match=r"TANIUM_URL is not set: export it or run "
                       r"`octi-tanium sandbox`"):  # fmt: skip
        TaniumSettings.from_env()


def test_missing_token_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANIUM_URL", "https://t")
    expected = r"TANIUM_TOKEN is not set \(nor TANIUM_TOKEN_FILE\)"
    with pytest.raises(TaniumSettingsError, match=expected):
        TaniumSettings.from_env()


def test_unreadable_token_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TANIUM_URL", "https://t")
    monkeypatch.setenv("TANIUM_TOKEN_FILE", str(tmp_path / "absent"))
    with pytest.raises(TaniumSettingsError, match="absent cannot be read"):
        TaniumSettings.from_env()


def test_malformed_values_are_reported_with_their_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANIUM_URL", "https://t")
    monkeypatch.setenv("TANIUM_TOKEN", TOKEN)
    monkeypatch.setenv("TANIUM_VERIFY_TLS", "maybe")
    with pytest.raises(TaniumSettingsError, match="TANIUM_VERIFY_TLS"):
        TaniumSettings.from_env()


def test_tls_verification_can_be_disabled_or_pinned_to_a_ca_bundle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TANIUM_URL", "https://t")
    monkeypatch.setenv("TANIUM_TOKEN", TOKEN)
    monkeypatch.setenv("TANIUM_VERIFY_TLS", "false")
    assert TaniumSettings.from_env().verify() is False
    monkeypatch.setenv("TANIUM_VERIFY_TLS", "true")
    import certifi

    monkeypatch.setenv("TANIUM_CA_BUNDLE", certifi.where())
    assert isinstance(TaniumSettings.from_env().verify(), ssl.SSLContext)


def test_client_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANIUM_URL", "https://tenant-api.example.com/")
    monkeypatch.setenv("TANIUM_TOKEN", TOKEN)
    client = TaniumClient.from_settings(TaniumSettings.from_env(), page_size=50)
    assert client.url == "https://tenant-api.example.com" and client.page_size == 50
    assert TOKEN not in repr(client)
