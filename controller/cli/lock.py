"""`octi-tanium lock status | release ID`, and `--lock-timeout` of `apply` and `run`.

The lease store is `OCTI_TANIUM_LOCK_URL` (unset: the file lock in `OCTI_TANIUM_STATE_DIR`);
see docs/deploy.md, "One writer: leases".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from controller.lease import LeaseInfo, force_release, open_store, redact, status
from controller.policy.models import parse_duration


class Seconds(click.ParamType):  # type: ignore[type-arg]
    """A duration: seconds (`30`, `2.5`) or `30s`, `5m`, `1h`."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                seconds = parse_duration(text).total_seconds()
            except ValueError:
                self.fail(f"{text!r} is not a duration (30, 30s, 5m, 1h)", param, ctx)
        if seconds < 0:
            self.fail(f"{text!r} is negative", param, ctx)
        return seconds


lock_timeout_option = click.option(
    "--lock-timeout",
    type=Seconds(),
    default="0",
    show_default=True,
    help="Wait this long for the writer lease of the target (TANIUM_URL + Settings.source) "
    "while another octi-tanium holds it (0: fail at once).",
)


def _row(info: LeaseInfo, now: datetime) -> dict[str, object]:
    return {
        "key": info.key,
        "target": info.target,
        "holder": info.holder,
        "token": info.token,
        "acquired_at": info.acquired_at.isoformat(timespec="seconds"),
        "renewed_at": info.renewed_at.isoformat(timespec="seconds"),
        "expires_at": info.expires_at.isoformat(timespec="seconds"),
        "expires_in": round((info.expires_at - now).total_seconds(), 1),
    }


@click.group("lock")
def lock() -> None:
    """The writer leases: who holds which target (status), force-unlock (release)."""


@lock.command("status")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def lock_status(fmt: str) -> None:
    """List the live leases of the lock store (OCTI_TANIUM_LOCK_URL)."""
    store = open_store()
    try:
        where = redact(store.url)
        leases = status(store=store)
    finally:
        store.close()
    now = datetime.now(UTC)
    rows = [_row(info, now) for info in leases]
    if fmt == "json":
        click.echo(json.dumps({"store": where, "leases": rows}, indent=2))
        return
    if not rows:
        click.echo(f"no lease held in {where}")
        return
    click.echo(f"{len(rows)} lease(s) in {where}:")
    for row in rows:
        click.echo(
            f"  {row['target']}: held by {row['holder']} (token {row['token']}) since "
            f"{row['acquired_at']}, expires in {row['expires_in']} s — key {row['key']}"
        )


@lock.command("release")
@click.argument("ident", metavar="ID")
def lock_release(ident: str) -> None:
    """Force-unlock: drop the lease held by holder ID (or of target key ID).

    For a holder that is dead or stuck; a deposed holder that is still running stops before
    its next write batch (fencing).
    """
    for info in force_release(ident):
        click.echo(
            f"released the lease of {info.target} held by {info.holder} (token {info.token})"
        )
