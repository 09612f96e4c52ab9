"""The Tanium Signal grammar: `object.property condition value`, AND / OR, parentheses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.render.check.signal import CONDITIONS
from controller.render.check.signal import check_signal as verdict_of


def check_signal(text: str) -> str | None:
    error = verdict_of(text).error
    return None if error is None else error.message


VALID = [
    "process.path ends with '\\\\rundll32.exe'",
    "file.size greater than 1000000",
    "(process.name is cmd.exe OR process.name is powershell.exe) AND "
    "process.command_line contains '-enc'",
    "((network.remote_port equals 4444))",
    "process.command_line does not contain 'it\\'s fine'",
    "process.name IS NOT explorer.exe and process.parent_name Starts With 'win'",
    "registry.key_path contains 'Run'\nAND registry.value_name is 'evil'",
]
INVALID = [
    ("", "the signal expression is empty"),
    ("process.path endswith x", "column 14: expected a condition after 'process.path'"),
    ("process contains x", "column 8: expected '.' and a property after 'process'"),
    ("process.path contains", "column 22: missing value after the condition"),
    ("process.path contains 'x", "column 23: unterminated quoted value"),
    ("(process.a is b", "column 16: expected ')', found the end of the expression"),
    ("process.a is b)", "column 15: unbalanced ')'"),
    ("process.a is b AND", "column 19: expected object.property"),
    ("process.a is b XOR c.d is e", "column 16: expected AND or OR, found 'XOR'"),
    ("()", "column 2: empty parentheses"),
    ("process.a is b AND\nfile.path endswith y", "line 2, column 11: expected a condition"),
]


def test_the_real_signal_from_the_corpus_is_valid(corpus: Path) -> None:
    signal = json.loads((corpus / "tanium/signals/zipfldr-routethecall.signal.json").read_text())
    assert check_signal(signal["contents"]) is None


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_condition_is_accepted(condition: str) -> None:
    assert check_signal(f"process.name {condition} 'cmd.exe'") is None


@pytest.mark.parametrize("text", VALID)
def test_valid_expressions_pass(text: str) -> None:
    assert check_signal(text) is None


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_expressions_say_where_and_why(text: str, message: str) -> None:
    problem = check_signal(text)
    assert problem is not None
    assert message in problem


def test_a_misspelt_condition_gets_a_suggestion() -> None:
    assert "did you mean 'ends with'?" in (check_signal("process.path endswith x") or "")
