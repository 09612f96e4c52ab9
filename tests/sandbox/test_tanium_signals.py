"""The Tanium Signal grammar of the emulator (pure functions)."""

from __future__ import annotations

import pytest
from octi_sandbox.tanium.signals import CONDITIONS, SignalSyntaxError, compile_signal


def test_quoted_value_unescapes_backslashes_and_quotes() -> None:
    compiled = compile_signal(r"file.path equals 'C:\\Temp\\it\'s.exe'")
    assert compiled["terms"][0]["value"] == "C:\\Temp\\it's.exe"


def test_bare_value_is_taken_verbatim() -> None:
    assert compile_signal("process.name is cmd.exe")["terms"][0]["value"] == "cmd.exe"


@pytest.mark.parametrize("surface", list(CONDITIONS))
def test_every_documented_condition_compiles(surface: str) -> None:
    term = compile_signal(f"process.pid {surface} 4")["terms"][0]
    assert (term["condition"], term["negate"]) == CONDITIONS[surface]


def test_negative_conditions_compile_to_negate_true() -> None:
    term = compile_signal("process.command_line does not contain 'x'")["terms"][0]
    assert (term["condition"], term["negate"]) == ("contains", True)


def test_keywords_and_conditions_are_case_insensitive() -> None:
    compiled = compile_signal("process.path ENDS WITH x and process.pid Is 4")
    assert [t["condition"] for t in compiled["terms"]] == ["ends with", "is"]


def test_single_term_is_an_and_group_with_text_and_syntax_version() -> None:
    compiled = compile_signal("network.remote_port is 4444", syntax_version=2)
    assert compiled["operator"] == "and" and compiled["expressions"] == []
    assert compiled["text"] == "network.remote_port is 4444" and compiled["syntax_version"] == 2


def test_and_binds_tighter_than_or() -> None:
    compiled = compile_signal("a.b is 1 AND a.c is 2 OR a.d is 3")
    assert compiled["operator"] == "or"
    assert [t["value"] for t in compiled["terms"]] == ["3"]
    assert compiled["expressions"][0]["operator"] == "and"


def test_parentheses_group_and_same_operator_groups_flatten() -> None:
    compiled = compile_signal("(a.b is 1 OR a.c is 2) AND (a.d is 3 AND a.e is 4)")
    assert compiled["operator"] == "and"
    assert [t["value"] for t in compiled["terms"]] == ["3", "4"]
    assert compiled["expressions"][0]["operator"] == "or"


def test_dotted_property_keeps_the_first_segment_as_object() -> None:
    term = compile_signal("process.parent.path contains x")["terms"][0]
    assert (term["object"], term["property"]) == ("process", "parent.path")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "process",
        "process.path",
        "process.path contains",
        "process.path resembles x",
        "process.path contains x AND",
        "(process.path contains x",
        "process.path contains x)",
        "process.path contains 'x",
        "process.path matches '(unclosed'",
        "process.path contains x process.pid is 4",
    ],
)
def test_invalid_signals_raise_a_syntax_error(text: str) -> None:
    with pytest.raises(SignalSyntaxError):
        compile_signal(text)
