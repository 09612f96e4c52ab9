"""Loading policy folders: kinds, several documents per file, subfolders, semantic checks."""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.policy.loader import LoadResult, load_policies
from controller.policy.models import IntelPolicy, StaticIntel
from controller.policy.schema import policy_schema
from controller.policy.static import static_hashes
from controller.policy.validate import format_text, validate

ROOT = Path(__file__).resolve().parents[2]
HEADER = "apiVersion: octi-tanium/v1\n"
TARGET = "target: {intel: {}}"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def messages(result: LoadResult, severity: str = "error") -> list[str]:
    return [d.message for d in result.diagnostics if d.severity == severity]


def policy(name: str, spec: str) -> str:
    return (
        f"{HEADER}kind: IntelPolicy\nmetadata: {{name: {name}}}\nspec:\n"
        + textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
        + "\n"
    )


def exclusion(name: str, spec: str) -> str:
    return f"{HEADER}kind: Exclusion\nmetadata: {{name: {name}}}\nspec: {spec}\n"


# --------------------------------------------------------------------------- this repository


def test_the_repository_policies_are_valid_without_warnings() -> None:
    result = validate(ROOT / "desired")
    assert result.diagnostics == ()


def test_everything_selects_everything_and_targets_intel_and_blocklist() -> None:
    result = load_policies(ROOT / "desired")
    [everything] = [
        i.document
        for i in result.policies.intel_policies
        if i.document.metadata.name == "everything"
    ]
    assert isinstance(everything, IntelPolicy)
    assert everything.spec.select == type(everything.spec.select)()
    assert everything.spec.target.intel is not None
    assert everything.spec.target.blocklist is not None


def test_the_repository_settings_are_the_documented_ones() -> None:
    settings = load_policies(ROOT / "desired").policies.settings
    assert settings.source == "OpenCTI (octi-tanium)"
    budget = settings.deletion_budget
    assert (budget.max, budget.max_percent, budget.allow_empty) == (500, 20, False)


def test_the_documented_examples_are_valid_without_warnings() -> None:
    result = validate(ROOT / "docs" / "examples")
    assert result.diagnostics == ()
    policies = result.policies
    assert len(policies.intel_policies) == 3
    assert len(policies.static_intel) == 3
    assert len(policies.exclusions) == 1
    assert policies.settings.quotas.max_intel == 5000


def test_static_yara_is_read_from_its_file_next_to_the_policy() -> None:
    result = load_policies(ROOT / "docs" / "examples")
    [webshells] = [
        s for s in result.policies.static_intel if s.document.metadata.name == "php-webshells"
    ]
    rule = (ROOT / "docs/examples/static/rules/php-webshell.yar").read_text(encoding="utf-8")
    assert webshells.content == rule


def test_the_policy_documentation_covers_every_key_of_the_schema() -> None:
    doc = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    keys = {
        key
        for definition in policy_schema()["$defs"].values()
        for key in definition.get("properties", {})
    }
    missing = sorted(k for k in keys if not re.search(rf"[`.]{re.escape(k)}[`.]", doc))
    assert missing == []


# --------------------------------------------------------------------------- files and documents


def test_documents_load_from_several_files_subfolders_and_multi_document_files(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "a.yaml",
        policy("one", "target: {intel: {}}") + "---\n" + policy("two", "target: {blocklist: {}}"),
    )
    write(tmp_path, "team/deep/b.yml", policy("three", "target: {intel: {}}"))
    write(tmp_path, ".hidden/c.yaml", "this: [is not, even valid")
    write(tmp_path, "notes.txt", "not a policy")
    result = load_policies(tmp_path)
    assert result.diagnostics == ()
    assert [i.document.metadata.name for i in result.policies.intel_policies] == [
        "one",
        "two",
        "three",
    ]
    assert [p.relative_to(tmp_path).as_posix() for p in result.files] == [
        "a.yaml",
        "team/deep/b.yml",
    ]
    assert result.policies.intel_policies[1].position.line == 7


def test_the_same_name_in_two_kinds_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", policy("shared", "target: {intel: {}}"))
    write(
        tmp_path,
        "b.yaml",
        exclusion("shared", "{reason: r, labels: [x]}"),
    )
    assert load_policies(tmp_path).diagnostics == ()


def test_a_missing_folder_is_an_error_and_an_empty_one_a_warning(tmp_path: Path) -> None:
    assert messages(load_policies(tmp_path / "nope")) == [
        f"policy directory {tmp_path / 'nope'} does not exist"
    ]
    empty = load_policies(tmp_path)
    assert empty.ok
    assert "nothing is desired" in messages(empty, "warning")[0]


def test_a_document_that_is_not_a_mapping_or_has_no_kind_is_an_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "- just\n- a list\n---\napiVersion: octi-tanium/v1\nmetadata: {name: x}\n",
    )
    result = load_policies(tmp_path)
    assert [(d.line, d.col) for d in result.diagnostics] == [(1, 1), (4, 1)]
    assert messages(result) == [
        "document 1 is not a mapping",
        "missing required key 'kind' (one of: IntelPolicy, StaticIntel, Exclusion, Settings)",
    ]


def test_a_file_that_is_not_utf8_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"# ok\nname: caf\xe9\n")
    result = load_policies(tmp_path)
    assert [(d.line, d.message) for d in result.diagnostics] == [(2, "not UTF-8 text (byte 14)")]


def test_the_revision_follows_the_bytes_of_the_policy_files(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", policy("one", "target: {intel: {}}"))
    first = load_policies(tmp_path).policies.revision
    assert load_policies(tmp_path).policies.revision == first
    path.write_text(path.read_text() + "# a comment\n")
    assert load_policies(tmp_path).policies.revision != first


def test_an_empty_select_is_explained(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", policy("one", "select:\ntarget: {intel: {}}"))
    assert messages(load_policies(tmp_path)) == [
        "IntelPolicy 'one' at spec.select: expected a mapping, got nothing "
        "(write {} for an empty mapping)"
    ]


def test_dates_without_a_zone_are_utc(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        policy(
            "one",
            "select: {created: {after: 2024-06-01, before: 2024-07-01T12:00:00}}\n" + TARGET,
        ),
    )
    [item] = load_policies(tmp_path).policies.intel_policies
    assert isinstance(item.document, IntelPolicy)
    created = item.document.spec.select.created
    assert created is not None
    assert created.after == datetime(2024, 6, 1, tzinfo=UTC)
    assert created.before == datetime(2024, 7, 1, 12, tzinfo=UTC)


# --------------------------------------------------------------------------- semantic checks


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "select: {labels: {allOf: [a, B], noneOf: [b]}}\ntarget: {intel: {}}",
            "label 'B' is in both labels.allOf and labels.noneOf",
        ),
        (
            "select: {entityTypes: [StixFile], observableTypes: [IPv4-Addr]}\ntarget: {intel: {}}",
            "observableTypes and entityTypes have no type in common",
        ),
        ("select: {created: {within: 0d}}\ntarget: {intel: {}}", "created.within is zero"),
        (
            "select: {created: {after: 2024-06-01}, updated: {before: 2024-05-01}}\n" + TARGET,
            "updated.before (2024-05-01T00:00:00+00:00) is not later than created.after",
        ),
        (
            "select: {updated: {after: 2024-06-01, before: 2024-06-01}}\ntarget: {intel: {}}",
            "updated.after (2024-06-01T00:00:00+00:00) is not earlier than updated.before",
        ),
    ],
)
def test_conflicting_selectors_are_errors(tmp_path: Path, spec: str, message: str) -> None:
    write(tmp_path, "a.yaml", policy("one", spec))
    [error] = messages(load_policies(tmp_path))
    assert message in error


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "select: {patternTypes: [stix, sigma]}\ntarget: {intel: {}}",
            "Tanium cannot hold pattern type 'sigma'",
        ),
        (
            "select: {entityTypes: [IPv4-Addr]}\ntarget: {blocklist: {}}",
            "the blocklist receives nothing",
        ),
        (
            "select: {markings: [TLP:GREEN], allowRed: true}\ntarget: {intel: {}}",
            "allowRed has no effect",
        ),
    ],
)
def test_doubtful_policies_get_warnings_and_stay_valid(
    tmp_path: Path, spec: str, message: str
) -> None:
    write(tmp_path, "a.yaml", policy("one", spec))
    result = load_policies(tmp_path)
    assert result.ok
    [warning] = messages(result, "warning")
    assert message in warning


def test_overlapping_policies_are_not_conflicts(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        policy("one", "select: {labels: {anyOf: [x]}}\ntarget: {intel: {platforms: [windows]}}")
        + "---\n"
        + policy(
            "two",
            "select: {labels: {anyOf: [x]}}\n"
            "target: {intel: {platforms: [windows]}, blocklist: {}}",
        )
        + "---\n"
        + policy(
            "three",
            "select: {labels: {anyOf: [x]}}\n"
            "target:\n  intel: {platforms: [linux]}\n  quickScan: {computerGroups: [Linux]}",
        ),
    )
    assert load_policies(tmp_path).diagnostics == ()


def test_red_is_allowed_when_the_policy_says_so(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        policy("one", "select: {markings: [TLP:RED], allowRed: true}\ntarget: {intel: {}}"),
    )
    assert load_policies(tmp_path).diagnostics == ()


def test_an_empty_exclusion_and_a_hasty_schedule_are_warnings(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        f"{HEADER}kind: Exclusion\nmetadata: {{name: e}}\nspec: {{reason: nothing yet}}\n---\n"
        f"{HEADER}kind: Settings\nmetadata: {{name: s}}\nspec: {{schedule: {{interval: 30s}}}}\n",
    )
    result = load_policies(tmp_path)
    assert result.ok
    assert [(d.line, d.col) for d in result.diagnostics] == [(4, 1), (9, 29)]


@pytest.mark.parametrize(
    "value",
    ["10.0.0.0/8", "192.168.1.1", "2001:db8::/32", "::1", "corp.example.com", "https://x.example/"],
)
def test_exclusion_values_that_are_valid_pass(tmp_path: Path, value: str) -> None:
    write(
        tmp_path,
        "a.yaml",
        exclusion("e", f"{{values: ['{value}'], reason: r}}"),
    )
    assert load_policies(tmp_path).diagnostics == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid CIDR range"),
        ("300.1.1.1", "'300.1.1.1' is not a valid IP address"),
        ("2001:db8::1/32", "did you mean '2001:db8::/32'?"),
    ],
)
def test_exclusion_values_that_look_like_ips_must_be_valid(
    tmp_path: Path, value: str, message: str
) -> None:
    write(
        tmp_path,
        "a.yaml",
        exclusion("e", f"{{values: ['{value}'], reason: r}}"),
    )
    [error] = messages(load_policies(tmp_path))
    assert message in error


def test_exclusion_ids_must_be_opencti_ids(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        exclusion(
            "e",
            "\n  ids:\n"
            "    - indicator--0d8cc3a5-7d3c-4f0e-8f2d-6b1f6f9b3c11\n"
            "    - 0d8cc3a5-7d3c-4f0e-8f2d-6b1f6f9b3c11\n"
            "    - emotet\n  reason: r",
        ),
    )
    result = load_policies(tmp_path)
    assert [(d.line, d.col) for d in result.diagnostics] == [(8, 7)]
    assert "'emotet' is not an OpenCTI id" in result.diagnostics[0].message


# --------------------------------------------------------------------------- static intel


def static(name: str, spec: str) -> str:
    return (
        f"{HEADER}kind: StaticIntel\nmetadata: {{name: {name}}}\nspec:\n"
        + textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
        + "\n"
    )


def test_a_hash_list_file_may_hold_comments_and_mixed_case(tmp_path: Path) -> None:
    write(
        tmp_path,
        "hashes/bad.txt",
        "# bad files\n\n44D88612FEA8A8F36DE82E1278ABB02F  # eicar\n"
        "3395856ce81f2b7382dee72602f798b642f14140\n",
    )
    write(
        tmp_path,
        "a.yaml",
        static(
            "bad", "type: hashes\nfile: hashes/bad.txt\nhashes: [44d88612fea8a8f36de82e1278abb02f]"
        ),
    )
    result = load_policies(tmp_path)
    assert result.diagnostics == ()
    [item] = result.policies.static_intel
    assert isinstance(item.document, StaticIntel)
    assert static_hashes(item.document, item.content) == (
        "44d88612fea8a8f36de82e1278abb02f",
        "3395856ce81f2b7382dee72602f798b642f14140",
    )


def test_a_static_file_may_not_leave_the_policy_folder(tmp_path: Path) -> None:
    write(tmp_path, "secret.txt", "44d88612fea8a8f36de82e1278abb02f\n")
    write(tmp_path, "policies/a.yaml", static("bad", "type: hashes\nfile: ../secret.txt"))
    result = load_policies(tmp_path / "policies")
    assert [(d.line, d.col) for d in result.diagnostics] == [(6, 9)]
    assert "../secret.txt is outside the policy folder" in result.diagnostics[0].message
    assert result.policies.static_intel == ()


def test_a_signal_may_be_the_json_signal_document(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        static(
            "sig",
            """\
        type: tanium-signal
        content: |
          {"name": "cmd", "contents": "process.name is 'cmd.exe'", "platforms": ["windows"]}""",
        ),
    )
    assert load_policies(tmp_path).diagnostics == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "cmd"}', "`contents` (the signal expression) is missing or empty"),
        (
            '{"name": "cmd", "contents": "process.name is x", "platforms": ["macos"]}',
            "`platforms` must be a list of: windows, linux, mac",
        ),
        ('{"name": "cmd", "contents": ', "is not valid JSON"),
        ('{"contents": "process.name iss x"}', "expected a condition after 'process.name'"),
    ],
)
def test_a_bad_json_signal_document_is_an_error(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path, "a.yaml", static("sig", f"type: tanium-signal\ncontent: '{content}'"))
    [error] = messages(load_policies(tmp_path))
    assert message in error


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("type: yara", "a yara StaticIntel needs `content` (inline) or `file` (a path)"),
        ("type: hashes", "a hashes StaticIntel needs `hashes`, `content` or `file`"),
        (
            "type: yara\ncontent: 'rule a { condition: true }'\nfile: a.yar",
            "give either `content` (inline) or `file` (a path), not both",
        ),
        (
            "type: yara\ncontent: 'rule a { condition: true }'\n"
            "hashes: [44d88612fea8a8f36de82e1278abb02f]",
            "`hashes` only applies to type: hashes",
        ),
    ],
)
def test_static_intel_needs_one_content(tmp_path: Path, spec: str, message: str) -> None:
    write(tmp_path, "a.yaml", static("s", spec))
    [error] = messages(load_policies(tmp_path))
    assert message in error


def test_the_summary_line_says_success_when_there_is_no_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", policy("one", "select: {patternTypes: [sigma]}\ntarget: {intel: {}}"))
    assert format_text(validate(tmp_path)).endswith("Success! 1 file valid, 1 warning.")


def test_the_policy_revision_does_not_depend_on_where_the_policies_are(tmp_path: Path) -> None:
    for place in ("here", "elsewhere/deeper"):
        write(tmp_path / place, "a.yaml", policy("p", TARGET))
    here = load_policies(tmp_path / "here").policies.revision
    assert here == load_policies(tmp_path / "elsewhere" / "deeper").policies.revision
    (tmp_path / "here" / "a.yaml").rename(tmp_path / "here" / "b.yaml")
    assert load_policies(tmp_path / "here").policies.revision != here  # names still count
