"""`octi-tanium snapshot --out FILE` (record Tanium's owned inventory, read-only, for plans
made without a Tanium credential) and `octi-tanium state list` (what the controller owns in
Tanium now, like `terraform state list`)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click

from controller.cli.options import policies_option
from controller.cli.review import check_writable
from controller.core.model import ActualState
from controller.reconcile import load_checked, tanium_client
from controller.target import ActualSpec, read_actual


async def _read(policies: Path, actual: str) -> tuple[ActualState, str]:
    source_name = load_checked(policies).policies.settings.source
    state, _, url = await read_actual(ActualSpec.parse(actual), source_name, tanium_client)
    return state, url


@click.command()
@policies_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The snapshot file (JSON) to write.",
)
def snapshot(policies: Path, out: Path) -> None:
    """Record Tanium's inventory of the managed source (read-only), for
    `plan --actual snapshot:FILE`."""
    from controller.tanium.snapshot import take, write_snapshot

    check_writable(out)
    state, url = asyncio.run(_read(policies, "tanium"))
    taken = take(state, tanium_url=url, taken_at=datetime.now(UTC).replace(microsecond=0))
    write_snapshot(taken, out)
    click.echo(
        f"Snapshot of {url} (source {state.source_name!r}) saved to {out}: "
        f"{len(state.intel):,} documents, {len(state.blocklist):,} blocklist entries, "
        f"fingerprint {taken.fingerprint[:12]}"
    )


@click.group()
def state() -> None:
    """What the controller owns in Tanium."""


@state.command("list")
@policies_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--actual",
    default="tanium",
    show_default=True,
    help="`tanium` (read it live) or `snapshot:FILE`.",
)
def state_list(policies: Path, fmt: str, actual: str) -> None:
    """List the owned documents and blocklist entries: kind, key, Tanium id, name."""
    from controller.tanium.owned import owned_inventory

    read, _ = asyncio.run(_read(policies, actual))
    owned = owned_inventory(read)
    if fmt == "json":
        click.echo(json.dumps([asdict(o) for o in owned], indent=2, ensure_ascii=False))
        return
    for o in owned:
        click.echo(f"{o.kind}\t{o.key}\t{o.tanium_id}\t{o.name}")
