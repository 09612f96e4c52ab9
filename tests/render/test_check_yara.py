"""YARA is compiled as Tanium would; what the local YARA lacks is only a warning.

(Moved from tests/policy/test_yara_check.py with the checker: `validate` and `plan` share it.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.render.check import Problem
from controller.render.check import check_yara as verdict_of
from tests.corpus_files import CORPUS

SIGNATURE_BASE = CORPUS / "yara/signature-base"


def check_yara(source: str) -> list[Problem]:
    return list(verdict_of(source).problems)


def test_a_valid_rule_has_no_problem() -> None:
    assert check_yara('rule ok { strings: $a = "evil" condition: $a }') == []


def test_a_syntax_error_is_an_error_naming_the_rule_and_the_line() -> None:
    source = "rule first { condition: true }\nrule second {\n  condition:\n    true and\n}\n"
    [problem] = check_yara(source)
    assert (problem.severity, problem.rule, problem.line) == ("error", "second", 5)
    assert "syntax error" in problem.message
    assert problem.text == "}"


def test_a_module_tanium_has_but_yara_python_lacks_is_a_warning() -> None:
    source = 'import "cuckoo"\nrule mutex {\n  condition:\n    cuckoo.sync.mutex(/x/)\n}\n'
    [problem] = check_yara(source)
    assert (problem.severity, problem.rule, problem.line) == ("warning", "mutex", 4)
    assert "module 'cuckoo'" in problem.message


def test_the_same_misuse_of_a_module_present_locally_is_an_error() -> None:
    source = 'import "pe"\nrule bad {\n  condition:\n    pe.no_such_field == 1\n}\n'
    [problem] = check_yara(source)
    assert (problem.severity, problem.line) == ("error", 4)


def test_a_module_that_tanium_lacks_is_an_error_even_if_yara_python_has_it() -> None:
    problems = check_yara('import "console"\nrule log { condition: true }\n')
    assert [(p.severity, p.line) for p in problems] == [("error", 1)]
    assert "module 'console' is not available in Tanium" in problems[0].message


def test_an_unknown_module_is_reported_once() -> None:
    problems = check_yara('import "nosuchmodule"\nrule r { condition: true }\n')
    assert [(p.severity, p.line) for p in problems] == [("error", 1)]


def test_external_variables_are_declared_with_placeholders_and_warned_about() -> None:
    source = (
        "rule uses_externals {\n  condition:\n"
        '    filename == "amsi.dll" and filepath contains "System32" and filetype == "pe"\n}\n'
    )
    problems = check_yara(source)
    assert {p.severity for p in problems} == {"warning"}
    assert [p.message.split("'")[1] for p in problems] == ["filename", "filepath", "filetype"]


def test_an_identifier_defined_nowhere_is_an_error_as_in_tanium() -> None:
    source = "rule needs_other { condition: private_rule_elsewhere and depth > 2 }\n"
    [problem] = check_yara(source)
    assert problem.severity == "error"
    assert "private_rule_elsewhere" in problem.message
    assert "compiles this content alone" in problem.message


def test_an_error_after_external_variables_is_still_an_error() -> None:
    source = 'rule r {\n  condition:\n    filename == "x" and\n}\n'
    problems = check_yara(source)
    assert [p.severity for p in problems] == ["warning", "error"]


def test_includes_are_refused() -> None:
    [problem] = check_yara('include "other.yar"\nrule r { condition: true }\n')
    assert problem.severity == "error"
    assert "include is not supported" in problem.message


def test_content_without_a_rule_is_an_error() -> None:
    [problem] = check_yara("// nothing here\n")
    assert (problem.severity, problem.message) == ("error", "the content holds no YARA rule")


def test_yara_warnings_are_warnings(corpus: Path) -> None:
    source = (corpus / "yara/demisto-content-mit/test.yara").read_text(encoding="utf-8")
    problems = check_yara(source)
    assert [p.severity for p in problems] == ["warning"]
    assert "always false" in problems[0].message


@pytest.mark.parametrize(
    "name", sorted(p.name for p in SIGNATURE_BASE.glob("*.yar*")) or ["(corpus missing)"]
)
def test_real_rule_files_raise_no_error(corpus: Path, name: str) -> None:
    source = (corpus / "yara/signature-base" / name).read_text(encoding="utf-8")
    assert [p for p in check_yara(source) if p.severity == "error"] == []
