"""The OpenCTI half of `doctor`: the token works, the version, and every operation the
controller sends validates against the schema it was written for. Queries only."""

from __future__ import annotations

from controller.doctor.model import Check, fail, ok
from controller.errors import RemoteError
from controller.sources.opencti.client import GraphQLClient
from controller.sources.opencti.queries import ABOUT, ME, all_operations
from controller.sources.opencti.schema import SCHEMA_VERSION, validation_errors
from controller.sources.opencti.settings import OpenCTISettings

PRODUCT = "OpenCTI"


async def opencti_checks(settings: OpenCTISettings) -> list[Check]:
    checks = [_operations_valid()]
    async with GraphQLClient(settings) as client:
        try:
            me = await client.execute(ME)
        except RemoteError as exc:
            checks.append(
                fail(
                    PRODUCT,
                    "API reachable, token accepted",
                    str(exc),
                    "check OPENCTI_URL and OPENCTI_TOKEN",
                )
            )
            return checks
        user = me.get(ME.root_field) if isinstance(me, dict) else None
        who = user.get("name") if isinstance(user, dict) else None
        checks.append(ok(PRODUCT, "API reachable, token accepted", f"as {who or 'unknown user'}"))
        about = await client.execute(ABOUT)
    info = about.get(ABOUT.root_field) if isinstance(about, dict) else None
    version = str(info.get("version") or "") if isinstance(info, dict) else ""
    checks.append(_version(version))
    return checks


def _operations_valid() -> Check:
    name = f"every query and mutation validates against the schema of OpenCTI {SCHEMA_VERSION}"
    bad = [
        f"{op.name}: {errors[0].message}"
        for op in all_operations()
        if (errors := validation_errors(op.document))
    ]
    if not bad:
        return ok(PRODUCT, name, f"{len(all_operations())} operations")
    return fail(PRODUCT, name, "; ".join(bad), "this is a bug of octi-tanium: report it")


def _version(version: str) -> Check:
    name = "server version matches the schema the queries were checked against"
    want = SCHEMA_VERSION.split(".")[0]
    have = version.split(".")[0] if version else ""
    if have == want:
        return ok(PRODUCT, name, f"OpenCTI {version} (schema {SCHEMA_VERSION})")
    return fail(
        PRODUCT,
        name,
        f"OpenCTI {version or 'unknown'}, queries checked against {SCHEMA_VERSION}",
        "run `octi-tanium plan` against it and read its diagnostics before applying; "
        "report the version",
    )
