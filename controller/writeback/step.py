"""The sightings loop as a step: of `octi-tanium sightings` (after a plan pass, which gives
the desired state and so the origins) and of every `run` pass (after the apply).

It opens its own clients; it never writes to Tanium, and its failure never changes what the
pass did there (the scheduler logs it, and the batch in flight is replayed next pass)."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from controller.core.desired import DesiredState
from controller.errors import OctiTaniumError, UserError
from controller.reconcile import Outcome, reconcile, tanium_client
from controller.retry import Timing
from controller.writeback.sightings import SETTLE, SightingsReport, sightings_pass

log = logging.getLogger("octi_tanium.sightings")


async def sightings_step(
    desired: DesiredState,
    source_name: str,
    *,
    now: datetime,
    since: datetime | None = None,
    dry_run: bool = False,
    timing: Timing | None = None,
) -> SightingsReport:
    from controller.sources.opencti import OpenCTISettings
    from controller.sources.opencti.client import GraphQLClient

    settings = OpenCTISettings.from_env()
    async with tanium_client(timing) as tanium, GraphQLClient(settings, timing=timing) as octi:
        return await sightings_pass(
            tanium,
            octi,
            desired,
            source_name=source_name,
            now=now,
            since=since,
            dry_run=dry_run,
            settle=settle_window(),
        )


def settle_window() -> timedelta:
    """`OCTI_TANIUM_SIGHTINGS_SETTLE` (seconds, default 60): alerts younger than this are left
    for the next pass. An alert that reaches Tanium later than this after its `alertedAt` (an
    endpoint that was offline) is behind the cursor and not counted: raise it for such fleets."""
    raw = os.environ.get("OCTI_TANIUM_SIGHTINGS_SETTLE", "").strip()
    if not raw:
        return SETTLE
    try:
        seconds = float(raw.removesuffix("s"))
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise UserError(
            f"OCTI_TANIUM_SIGHTINGS_SETTLE={raw!r} is not a number of seconds (default "
            f"{SETTLE.total_seconds():g})"
        )
    return timedelta(seconds=seconds)


async def sightings_command(
    policies_dir: Path,
    source: str,
    *,
    now: datetime,
    since: datetime | None = None,
    dry_run: bool = False,
    timing: Timing | None = None,
) -> SightingsReport:
    """Plan (to know what each owned document came from), then one sightings pass."""
    outcome = await reconcile(policies_dir, source, mode="plan", now=now, timing=timing)
    assert outcome.desired is not None and outcome.policies is not None
    return await sightings_step(
        outcome.desired,
        outcome.policies.settings.source,
        now=now,
        since=since,
        dry_run=dry_run,
        timing=timing,
    )


async def sightings_after_pass(
    outcome: Outcome, *, now: datetime, timing: Timing | None
) -> SightingsReport | None:
    """The step of a `run` pass: skipped without OpenCTI settings or a desired state; an
    error is logged (the pass's outcome in Tanium stands), never raised."""
    if outcome.desired is None or outcome.policies is None or not os.environ.get("OPENCTI_URL"):
        return None
    source_name = outcome.policies.settings.source
    try:
        report = await sightings_step(outcome.desired, source_name, now=now, timing=timing)
    except OctiTaniumError as exc:
        log.warning("sightings step failed (retried next pass): %s", exc.explain())
        return None
    agg = report.aggregation
    log.info(
        "sightings: %d alert(s) read, %d counted into %d sighting write(s), %d suppressed",
        agg.alerts,
        agg.counted,
        report.written,
        agg.suppressed,
    )
    return report
