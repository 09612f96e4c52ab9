"""`octi-tanium doctor`: read-only checks of the configured Tanium and OpenCTI, one line each."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click


@click.command()
@click.option(
    "--policies",
    type=click.Path(path_type=Path),
    default=Path("desired"),
    show_default=True,
    help="Policies whose Settings name the managed source.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def doctor(policies: Path, fmt: str) -> None:
    """Check, without writing anything, that this tenant behaves as octi-tanium assumes.

    Exit 0 when every check passes, 1 when any fails (each failure says what to do).
    """
    # imported here: the checks bring graphql-core (the OpenCTI schema), which every other
    # command would otherwise load at start-up for nothing (`plan` from a bundle among them)
    from controller.doctor import exit_code, run_doctor

    checks = asyncio.run(run_doctor(policies))
    code = exit_code(checks)
    if fmt == "json":
        body = {"ok": code == 0, "checks": [c.as_json() for c in checks]}
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        for check in checks:
            click.echo(check.line())
        failed = sum(1 for c in checks if c.status == "fail")
        click.echo(f"\n{failed} check(s) failed." if failed else "\nAll checks passed.")
    sys.exit(code)
