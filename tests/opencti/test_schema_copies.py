"""The controller and the OpenCTI emulator each ship the OpenCTI schema (neither package reads
the other's files); both copies must be the same schema."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTROLLER_COPY = ROOT / "controller" / "sources" / "opencti" / "opencti.graphql"
EMULATOR_COPY = ROOT / "sandbox" / "octi_sandbox" / "opencti" / "opencti.graphql"


def test_the_emulator_executes_the_schema_the_controller_validates_against() -> None:
    assert EMULATOR_COPY.read_bytes() == CONTROLLER_COPY.read_bytes()
