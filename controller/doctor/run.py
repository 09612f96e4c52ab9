"""Run every check against the environment's Tanium (and OpenCTI when configured)."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from controller.connection import ConnectionSettings
from controller.doctor.model import Check, fail, skip
from controller.doctor.opencti import opencti_checks
from controller.doctor.tanium import tanium_checks
from controller.errors import UserError


async def run_doctor(policies_dir: Path | None = None) -> list[Check]:
    """Every check, in order. The managed source name comes from the policies' Settings
    (default when there are none). Never raises for what it checks: failures are lines."""
    from controller.sources.opencti import OpenCTISettings
    from controller.tanium.client import TaniumClient
    from controller.tanium.settings import TaniumSettings

    source = _source_name(policies_dir)
    checks: list[Check] = []
    tanium = _settings(TaniumSettings, checks)
    if tanium is not None:
        async with TaniumClient.from_settings(tanium) as client:
            checks.extend(await tanium_checks(client, source))
    opencti = OpenCTISettings()
    if not opencti.url:
        checks.append(
            skip(
                "OpenCTI", "OpenCTI checks", "OPENCTI_URL is not set (plans from bundles need none)"
            )
        )
        return checks
    settings = _settings(OpenCTISettings, checks)
    if settings is not None:
        checks.extend(await opencti_checks(settings))
    return checks


S = TypeVar("S", bound=ConnectionSettings)


def _settings(kind: type[S], checks: list[Check]) -> S | None:
    try:
        return kind.from_env()
    except UserError as exc:
        checks.append(fail("settings", f"{kind.product} connection settings", str(exc), "set them"))
        return None


def _source_name(policies_dir: Path | None) -> str:
    from controller.policy.models import SettingsSpec

    default = SettingsSpec().source
    if policies_dir is None or not policies_dir.exists():
        return default
    from controller.policy.validate import validate

    result = validate(policies_dir)
    return result.policies.settings.source if result.ok else default
