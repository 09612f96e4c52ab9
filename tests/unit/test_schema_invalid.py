"""Documents Tanium stores but flags `isSchemaValid: false` are reported, never ignored."""

from __future__ import annotations

from controller.core.diff.intel import schema_invalid
from controller.core.model import ActualIntel, Key, TaniumId


def test_a_document_flagged_schema_invalid_becomes_a_warning_naming_it() -> None:
    flagged = ActualIntel(id=TaniumId(7), name="bad rule", schema_valid=False)
    fine = ActualIntel(id=TaniumId(8), name="good rule", schema_valid=True)
    unknown = ActualIntel(id=TaniumId(9), name="old server")
    found = schema_invalid({Key("a"): flagged, Key("b"): fine, Key("c"): unknown})
    assert [(d.severity, d.key) for d in found] == [("warning", "a")]
    assert "intel 7 ('bad rule') isSchemaValid: false" in found[0].message
