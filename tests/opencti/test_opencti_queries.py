"""Every operation the controller can send is valid against the real OpenCTI schema."""

from __future__ import annotations

import hashlib

import pytest
from graphql import build_schema, validate_schema

from controller.sources.opencti import schema as schema_module
from controller.sources.opencti.queries import INDICATORS, OBSERVABLES, all_operations
from controller.sources.opencti.schema import SCHEMA_PATH, load_schema, validation_errors

# The SHA-256 of OpenCTI's real merged GraphQL schema as it was copied into the package
# (origin and version: docs/opencti-api.md#schema). A changed file must be a deliberate update.
REAL_SCHEMA_SHA256 = "799f14cc72131d29bbb7381785c7944c05838c76f44e7f1bc088be73ba53e08b"


@pytest.mark.parametrize("operation", all_operations(), ids=lambda op: op.name)
def test_every_operation_validates_against_the_opencti_schema(operation: object) -> None:
    errors = validation_errors(operation.document)  # type: ignore[attr-defined]
    assert errors == [], [e.message for e in errors]


def test_operation_names_and_root_fields_are_unique_and_consistent() -> None:
    operations = all_operations()
    assert len({op.name for op in operations}) == len(operations)
    for op in operations:
        assert f"{op.kind} {op.name}" in op.document
        assert op.root_field in op.document


def test_a_misspelt_field_fails_validation() -> None:
    broken = INDICATORS.document.replace("x_opencti_score", "x_opencti_scor", 1)
    errors = validation_errors(broken)
    assert errors, "validation should fail on an unknown field"
    assert "x_opencti_scor" in errors[0].message


def test_a_field_on_the_wrong_observable_type_fails_validation() -> None:
    broken = OBSERVABLES.document.replace("... on Directory { path }", "... on Directory { value }")
    assert any("value" in e.message for e in validation_errors(broken))


def test_syntax_errors_are_reported_not_raised() -> None:
    assert validation_errors("query { indicators( }")


def test_the_shipped_schema_is_the_real_merged_schema_and_is_valid() -> None:
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() == REAL_SCHEMA_SHA256
    strict = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert validate_schema(strict) == []
    loaded = load_schema()
    assert load_schema() is loaded  # cached: parsed once per process
    assert schema_module.load_seconds is not None
