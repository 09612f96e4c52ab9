"""The Tanium Signal expression grammar, checked without Tanium.

    expression := term (("AND" | "OR") term)*
    term       := "(" expression ")" | object "." property condition value
    value      := 'quoted, with \\' and \\\\ escapes' | a bare word

Conditions: contains, does not contain, equals, does not equal, starts with, ends with,
matches, is, is not, greater than, less than. Keywords are case-insensitive.

The content may also be a signal document, JSON with the expression in `contents`
(`{"name": …, "contents": …, "platforms": […]}`, as Tanium exports it): its expression is
checked and is what gets sent.
"""

from __future__ import annotations

import json
import re
from typing import Any

from controller.core.diagnostics import did_you_mean
from controller.render.check.verdict import Problem, Verdict

CONDITIONS = (
    "contains", "does not contain", "equals", "does not equal", "starts with", "ends with",
    "matches", "is", "is not", "greater than", "less than",
)  # fmt: skip
_BY_LENGTH = sorted(CONDITIONS, key=len, reverse=True)
_OPERAND = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROPERTY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_BARE = re.compile(r"[^\s()']+")
_MAX_DEPTH = 50


class _Invalid(Exception):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message

    def where(self, text: str) -> str:
        before = text[: self.offset]
        line = before.count("\n") + 1
        column = self.offset - (before.rfind("\n") + 1) + 1
        return f"line {line}, column {column}" if "\n" in text.strip() else f"column {column}"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.depth = 0

    # helpers -------------------------------------------------------------------------------
    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def at_end(self) -> bool:
        self.skip()
        return self.i >= len(self.text)

    def fail(self, message: str) -> _Invalid:
        return _Invalid(self.i, message)

    def found(self) -> str:
        i = self.i
        while i < len(self.text) and self.text[i].isspace():
            i += 1
        if i >= len(self.text):
            return "the end of the expression"
        word = _BARE.match(self.text, i)
        return f"'{word.group(0)}'" if word else f"'{self.text[i]}'"

    def keyword(self, *words: str) -> str | None:
        self.skip()
        for word in words:
            end = self.i + len(word)
            if self.text[self.i : end].lower() == word.lower() and (
                end == len(self.text) or (not self.text[end].isalnum() and self.text[end] != "_")
            ):
                self.i = end
                return word
        return None

    # grammar -------------------------------------------------------------------------------
    def expression(self) -> None:
        self.term()
        while not self.at_end() and self.text[self.i] != ")":
            if self.keyword("AND", "OR") is None:
                raise self.fail(f"expected AND or OR, found {self.found()}")
            self.term()

    def term(self) -> None:
        self.skip()
        if self.i < len(self.text) and self.text[self.i] == "(":
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise self.fail("parentheses nested too deeply")
            self.i += 1
            if not self.at_end() and self.text[self.i] == ")":
                raise self.fail("empty parentheses")
            self.expression()
            if self.at_end() or self.text[self.i] != ")":
                raise self.fail(f"expected ')', found {self.found()}")
            self.i += 1
            self.depth -= 1
            return
        self.comparison()

    def comparison(self) -> None:
        self.skip()
        operand = _OPERAND.match(self.text, self.i)
        if operand is None or operand.group(0).upper() in ("AND", "OR"):
            raise self.fail(f"expected object.property, found {self.found()}")
        self.i = operand.end()
        if self.i >= len(self.text) or self.text[self.i] != ".":
            raise self.fail(
                f"expected '.' and a property after '{operand.group(0)}' (object.property), "
                f"found {self.found()}"
            )
        self.i += 1
        prop = _PROPERTY.match(self.text, self.i)
        if prop is None:
            raise self.fail(f"expected a property after '{operand.group(0)}.'")
        self.i = prop.end()
        subject = f"{operand.group(0)}.{prop.group(0)}"
        if self.keyword(*_BY_LENGTH) is None:
            self.skip()
            word = _BARE.match(self.text, self.i)
            hint = did_you_mean(word.group(0), CONDITIONS) if word else ""
            raise self.fail(
                f"expected a condition after '{subject}' ({', '.join(CONDITIONS)}), "
                f"found {self.found()}{hint}"
            )
        self.value(subject)

    def value(self, subject: str) -> None:
        self.skip()
        if self.i >= len(self.text) or self.text[self.i] == ")":
            raise self.fail(f"missing value after the condition on '{subject}'")
        if self.text[self.i] == "'":
            start = self.i
            self.i += 1
            while self.i < len(self.text):
                char = self.text[self.i]
                if char == "\\":
                    self.i += 2
                    continue
                if char == "'":
                    self.i += 1
                    return
                self.i += 1
            raise _Invalid(start, "unterminated quoted value (a ' is missing)")
        word = _BARE.match(self.text, self.i)
        if word is None:
            raise self.fail(f"expected a value, found {self.found()}")
        if word.group(0).upper() in ("AND", "OR"):
            raise self.fail(f"missing value after the condition on '{subject}'")
        self.i = word.end()


PLATFORMS = ("windows", "linux", "mac")


def check_signal(text: str) -> Verdict:
    """A Tanium Signal, bare expression or JSON signal document; the verdict carries the
    expression to send."""
    expression = text
    if text.strip().startswith("{"):
        try:
            data: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            at = f"line {exc.lineno}, column {exc.colno}"
            said = f"the signal document is not valid JSON: {exc.msg} ({at})"
            return Verdict((Problem("error", said),))
        problem = _document_problem(data)
        if problem is not None:
            return Verdict((Problem("error", problem),))
        expression = data["contents"]
    problem = grammar_problem(expression)
    problems = (Problem("error", problem),) if problem is not None else ()
    return Verdict(problems, expression=expression)


def _document_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "the JSON must be an object with `name` and `contents`"
    contents = data.get("contents")
    if not isinstance(contents, str) or not contents.strip():
        return "`contents` (the signal expression) is missing or empty"
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            return f"`{key}` must be a string"
    platforms = data.get("platforms", [])
    if not isinstance(platforms, list) or any(p not in PLATFORMS for p in platforms):
        return f"`platforms` must be a list of: {', '.join(PLATFORMS)}"
    return None


def grammar_problem(text: str) -> str | None:
    """Why `text` is not a valid Tanium Signal expression, or None when it is one."""
    if not text.strip():
        return "the signal expression is empty"
    parser = _Parser(text)
    try:
        parser.expression()
        if not parser.at_end():
            raise parser.fail("unbalanced ')'")
    except _Invalid as exc:
        return f"{exc.where(text)}: {exc.message}"
    return None
