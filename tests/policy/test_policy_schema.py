"""schemas/policy.schema.json: generated from the models, current, and as strict as they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from controller.policy import yamlpos
from controller.policy.models import KINDS
from controller.policy.schema import policy_schema, render_schema, write_schemas

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BROKEN = HERE / "broken"
GOOD_FOLDERS = (ROOT / "desired", ROOT / "docs" / "examples")

# Broken fixtures the schema must reject: file → JSON path of the offending node. The schema
# sees one document at a time, like an editor does.
REJECTED: dict[str, tuple[str | int, ...]] = {
    "api-version.yaml": ("apiVersion",),
    "bad-duration.yaml": ("spec", "select", "created", "within"),
    "bad-enum.yaml": ("spec", "select", "patternTypes", 1),
    "bad-hash.yaml": ("spec", "hashes", 1),
    "bad-name.yaml": ("metadata", "name"),
    "missing-key.yaml": ("spec",),
    "missing-reason.yaml": ("spec",),
    "misspelt-key.yaml": ("spec", "select"),
    "quickscan-without-intel.yaml": ("spec", "target"),
    "several-errors.yaml": ("spec", "target", "intel", "platforms", 1),
    "tlp-red.yaml": ("spec", "select"),
    "unknown-key.yaml": ("spec", "select"),
    "unknown-kind.yaml": (),
    "wrong-type.yaml": ("spec", "select", "minScore"),
}
# Broken fixtures that only `validate` can catch, and why.
EXEMPT: dict[str, str] = {
    "bad-cidr.yaml": "CIDR validity needs ipaddress (host bits, prefix length)",
    "bad-hash-list.yaml": "the hashes are in another file",
    "bad-signal.yaml": "Signal grammar of the content",
    "conflicting-labels.yaml": "relation between two lists",
    "conflicting-types.yaml": "relation between two lists",
    "conflicting-window.yaml": "comparison of two timestamps",
    "duplicate-a.yaml": "names are unique across documents and files",
    "duplicate-b.yaml": "names are unique across documents and files",
    "invalid-yara.yaml": "YARA compilation of the content",
    "platform-conflict.yaml": "conflict between two documents",
    "static-name-clash.yaml": "conflict between two documents",
    "static-outside.yaml": "reading the file system",
    "two-settings.yaml": "at most one Settings across documents and files",
    "unreadable-static.yaml": "reading the file system",
    "yaml-syntax.yaml": "the YAML does not parse (editors report it themselves)",
    "yara-module.yaml": "YARA compilation of a file (a warning only)",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return policy_schema()


def _documents(path: Path) -> list[Any]:
    return [
        yamlpos.plain(raw.node)
        for raw in yamlpos.documents(path, path.read_text(encoding="utf-8"))
        if raw.node is not None
    ]


def _validator(schema: dict[str, Any], document: Any) -> Draft202012Validator:
    """Validate against the document's own kind, as the discriminator says editors should."""
    kind = document.get("kind") if isinstance(document, dict) else None
    if kind in KINDS:
        return Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": schema["$defs"]})
    return Draft202012Validator(schema)


def _paths(errors: list[ValidationError]) -> set[tuple[str | int, ...]]:
    """Where each error is, including those inside anyOf / oneOf branches."""
    out: set[tuple[str | int, ...]] = set()
    for error in errors:
        out.add(tuple(error.absolute_path))
        out |= _paths(list(error.context or ()))
    return out


def _good_files() -> list[Path]:
    return sorted(p for folder in GOOD_FOLDERS for p in folder.rglob("*.yaml"))


def test_the_schema_is_a_valid_draft_2020_12_schema(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)


def test_the_schema_dispatches_on_kind_over_the_four_kinds(schema: dict[str, Any]) -> None:
    assert schema["discriminator"]["propertyName"] == "kind"
    assert sorted(schema["discriminator"]["mapping"]) == sorted(KINDS)
    assert len(schema["oneOf"]) == 4


def test_the_schema_uses_camel_case_keys_and_forbids_unknown_ones(schema: dict[str, Any]) -> None:
    select = schema["$defs"]["Select"]
    assert select["additionalProperties"] is False
    assert {"entityTypes", "minScore", "allowRed", "includeRevoked"} <= set(select["properties"])
    for name, definition in schema["$defs"].items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition["additionalProperties"] is False, name


@pytest.mark.parametrize("path", _good_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_schema_accepts_every_example_policy(schema: dict[str, Any], path: Path) -> None:
    documents = _documents(path)
    assert documents
    for document in documents:
        errors = list(_validator(schema, document).iter_errors(document))
        assert errors == [], [e.message for e in errors]
        assert list(Draft202012Validator(schema).iter_errors(document)) == []


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_the_schema_rejects_each_per_document_mistake(schema: dict[str, Any], name: str) -> None:
    documents = _documents(BROKEN / name)
    assert len(documents) == 1
    document = documents[0]
    assert list(Draft202012Validator(schema).iter_errors(document)), f"{name} was accepted"
    errors = list(_validator(schema, document).iter_errors(document))
    assert REJECTED[name] in _paths(errors), [e.message for e in errors]


def test_every_broken_fixture_is_either_rejected_by_the_schema_or_exempt() -> None:
    names = {p.name for p in BROKEN.glob("*.yaml")}
    assert names == set(REJECTED) | set(EXEMPT)
    assert not set(REJECTED) & set(EXEMPT)


@pytest.mark.parametrize("name", sorted(EXEMPT))
def test_exempt_fixtures_are_documents_the_schema_alone_accepts(
    schema: dict[str, Any], name: str
) -> None:
    for document in _documents(BROKEN / name):
        assert list(Draft202012Validator(schema).iter_errors(document)) == []


def test_the_committed_schema_is_up_to_date() -> None:
    committed = (ROOT / "schemas" / "policy.schema.json").read_bytes()
    assert committed == render_schema(policy_schema()).encode("utf-8")
    assert write_schemas(ROOT / "schemas", check=True) == []


def test_regenerating_the_schema_gives_identical_bytes() -> None:
    assert render_schema(policy_schema()) == render_schema(policy_schema())


def test_schema_check_reports_stale_files_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "policy.schema.json").write_text("{}\n", encoding="utf-8")
    assert write_schemas(tmp_path, check=True) == ["policy.schema.json"]
    assert (tmp_path / "policy.schema.json").read_text(encoding="utf-8") == "{}\n"


def test_writing_schemas_creates_missing_and_stale_files_only(tmp_path: Path) -> None:
    def extra() -> dict[str, Any]:
        return {"title": "extra"}

    producers = {"policy.schema.json": policy_schema, "extra.schema.json": extra}
    out = tmp_path / "schemas"
    assert write_schemas(out, check=False, producers=producers) == [
        "policy.schema.json",
        "extra.schema.json",
    ]
    assert write_schemas(out, check=True, producers=producers) == []
    assert write_schemas(out, check=False, producers=producers) == []
    assert (out / "extra.schema.json").read_text(encoding="utf-8") == '{\n  "title": "extra"\n}\n'


@pytest.mark.parametrize("path", _good_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_example_policies_point_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = (path.parent / first[len(prefix) :]).resolve()
    assert target == (ROOT / "schemas" / "policy.schema.json").resolve()
