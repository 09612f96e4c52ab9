"""The command line (`octi-tanium`, `python -m controller`): click commands (`commands`) and
the terminal UI (`progress`, the reports). The only package that prints."""

from controller.cli import sightings as _sightings  # noqa: F401  (registers `sightings`)
from controller.cli.commands import main

__all__ = ["main"]
