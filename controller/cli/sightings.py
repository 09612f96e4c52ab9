"""`octi-tanium sightings`: Tanium alerts on owned documents → OpenCTI sightings."""

from __future__ import annotations

import asyncio
import json
from contextlib import nullcontext
from datetime import UTC, datetime

import click

from controller.cli.commands import console, main, source_option
from controller.cli.options import policies_option
from controller.errors import UserError
from controller.writeback.sightings import SightingsReport


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            f"--since {value!r} is not an ISO 8601 date or timestamp (e.g. 2026-11-01 or "
            "2026-11-01T08:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def render(report: SightingsReport) -> str:
    agg = report.aggregation
    verb = "would write" if report.dry_run else "wrote"
    lines = [
        f"Alerts {report.since:%Y-%m-%d %H:%M:%S} → {report.until:%Y-%m-%d %H:%M:%S} UTC"
        + ("  (recovery: counting only after what OpenCTI holds)" if report.recovery else ""),
        f"  {agg.alerts} read: {agg.counted} counted, {agg.suppressed} suppressed (skipped), "
        f"{agg.foreign} on documents octi-tanium does not own, {agg.unmapped} on documents no "
        f"longer desired, {agg.already} already in OpenCTI",
    ]
    if report.replayed:
        lines.append(f"  replayed {report.replayed} sighting write(s) of an interrupted pass")
    lines.append(f"  {verb} {len(report.writes)} sighting(s) on {len(agg.hosts)} host(s)")
    for write in report.writes[:20]:
        lines.append(
            f"    {write.object_id}  at {write.host}  {write.day}  ×{write.count}  "
            f"({write.first_seen:%H:%M:%S}–{write.last_seen:%H:%M:%S})"
        )
    if len(report.writes) > 20:
        lines.append(f"    … and {len(report.writes) - 20} more (see --format json)")
    return "\n".join(lines)


@main.command()
@policies_option
@source_option
@click.option("--since", help="Re-read alerts from this ISO date (nothing is counted twice).")
@click.option("--dry-run", is_flag=True, help="Show the sightings; write nothing, keep the cursor.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def sightings(policies: str, source: str, since: str | None, dry_run: bool, fmt: str) -> None:
    """Report Tanium alerts on octi-tanium's documents to OpenCTI as sightings."""
    from pathlib import Path

    from controller.reconcile import load_checked
    from controller.run.leader import Leadership
    from controller.writeback.step import sightings_command

    start = _since(since)
    source_name = load_checked(Path(policies)).policies.settings.source
    # One writer: the same lease as `apply` and `run` (whose passes report sightings too).
    with nullcontext() if dry_run else Leadership(0.0).held(source_name):
        report = asyncio.run(
            sightings_command(
                Path(policies), source, now=datetime.now(UTC), since=start, dry_run=dry_run
            )
        )
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        console().print(render(report), markup=False)
