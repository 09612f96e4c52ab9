"""Options several commands share."""

from __future__ import annotations

from pathlib import Path

import click

policies_option = click.option(
    "--policies",
    type=click.Path(path_type=Path),
    default=Path("desired"),
    show_default=True,
    envvar="OCTI_TANIUM_POLICIES",
    help="Directory (or file) of YAML policies (env OCTI_TANIUM_POLICIES).",
)
