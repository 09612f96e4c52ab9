"""Every missing connection setting is reported at once, not the first one only."""

from __future__ import annotations

import pytest

from controller.connection import require_settings
from controller.errors import UserError
from controller.sources.opencti import OpenCTISettings
from controller.tanium.settings import TaniumSettings


def test_every_missing_url_and_token_of_both_products_is_named_in_one_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("TANIUM_URL", "TANIUM_TOKEN", "OPENCTI_URL", "OPENCTI_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UserError) as caught:
        require_settings(OpenCTISettings, TaniumSettings)
    message = str(caught.value)
    for name in ("OPENCTI_URL", "OPENCTI_TOKEN", "TANIUM_URL", "TANIUM_TOKEN"):
        assert f"{name} is not set" in message


def test_complete_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANIUM_URL", "https://tanium.example.com")
    monkeypatch.setenv("TANIUM_TOKEN", "token")
    require_settings(TaniumSettings)
