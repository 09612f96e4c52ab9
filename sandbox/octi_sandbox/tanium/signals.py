"""Tanium Signal expressions: tokenizer, parser and the `compiled` form Tanium reports.

Grammar (keywords case-insensitive, AND binds tighter than OR)::

    expr    := and_expr ("OR" and_expr)*
    and_expr:= primary ("AND" primary)*
    primary := "(" expr ")" | term
    term    := object "." property CONDITION value
    value   := bare-word | "'" chars "'"      (inside quotes: \\\\ is \\, \\' is ')

The compiled form mirrors the corpus (`zipfldr-routethecall.compiled.json`): a node
`{expressions, terms, operator}` whose `terms` are `{object, property, condition, negate, value}`;
negative conditions ("does not contain") compile to the positive condition with `negate: true`.
Nested groups with the same operator are flattened; the root also carries `text` and
`syntax_version`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CONDITIONS: dict[str, tuple[str, bool]] = {
    "contains": ("contains", False),
    "does not contain": ("contains", True),
    "equals": ("equals", False),
    "does not equal": ("equals", True),
    "starts with": ("starts with", False),
    "does not start with": ("starts with", True),
    "ends with": ("ends with", False),
    "does not end with": ("ends with", True),
    "matches": ("matches", False),
    "does not match": ("matches", True),
    "is": ("is", False),
    "is not": ("is", True),
    "greater than": ("greater than", False),
    "less than": ("less than", False),
}
"""Surface condition → (compiled condition, negate). Longest match wins ("is not" over "is")."""

_CONDITION_WORDS = sorted((tuple(c.split()) for c in CONDITIONS), key=len, reverse=True)
_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)$")


class SignalSyntaxError(ValueError):
    """The signal text does not follow the grammar; the message says where."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "word" | "quoted" | "(" | ")"
    text: str
    pos: int


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(_Token(ch, ch, i))
            i += 1
        elif ch == "'":
            start, i, chars = i, i + 1, []
            while True:
                if i >= n:
                    raise SignalSyntaxError(f"unterminated quoted value at position {start}")
                ch = text[i]
                if ch == "\\" and i + 1 < n and text[i + 1] in "\\'":
                    chars.append(text[i + 1])
                    i += 2
                elif ch == "'":
                    i += 1
                    break
                else:
                    chars.append(ch)
                    i += 1
            tokens.append(_Token("quoted", "".join(chars), start))
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in "()'":
                i += 1
            tokens.append(_Token("word", text[start:i], start))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.upper() == word:
            self.i += 1
            return True
        return False

    def expr(self) -> dict[str, Any]:
        parts = [self.and_expr()]
        while self.keyword("OR"):
            parts.append(self.and_expr())
        return _node("or", parts)

    def and_expr(self) -> dict[str, Any]:
        parts = [self.primary()]
        while self.keyword("AND"):
            parts.append(self.primary())
        return _node("and", parts)

    def primary(self) -> dict[str, Any]:
        tok = self.peek()
        if tok is None:
            raise SignalSyntaxError("unexpected end of expression")
        if tok.kind == "(":
            self.i += 1
            inner = self.expr()
            close = self.peek()
            if close is None or close.kind != ")":
                raise SignalSyntaxError(f"missing ')' for '(' at position {tok.pos}")
            self.i += 1
            return inner
        return self.term()

    def term(self) -> dict[str, Any]:
        tok = self.peek()
        assert tok is not None
        match = _FIELD.match(tok.text) if tok.kind == "word" else None
        if match is None:
            raise SignalSyntaxError(
                f"expected object.property at position {tok.pos}, found {tok.text!r}"
            )
        self.i += 1
        condition = self.condition(tok)
        value = self.peek()
        if value is None or value.kind not in ("word", "quoted"):
            raise SignalSyntaxError(f"missing value after '{condition}' at position {tok.pos}")
        self.i += 1
        compiled, negate = CONDITIONS[condition]
        if compiled == "matches":
            try:
                re.compile(value.text)
            except re.error as exc:
                raise SignalSyntaxError(
                    f"invalid regular expression {value.text!r}: {exc}"
                ) from None
        return {  # key order as in Tanium's compiled output
            "condition": compiled,
            "negate": negate,
            "value": value.text,
            "object": match.group(1),
            "property": match.group(2),
        }

    def condition(self, field: _Token) -> str:
        for words in _CONDITION_WORDS:
            window = self.tokens[self.i : self.i + len(words)]
            if len(window) == len(words) and all(
                t.kind == "word" and t.text.lower() == w for t, w in zip(window, words, strict=True)
            ):
                self.i += len(words)
                return " ".join(words)
        found = self.peek()
        shown = repr(found.text) if found is not None else "end of expression"
        raise SignalSyntaxError(
            f"unknown condition {shown} after {field.text!r} (expected one of: "
            + ", ".join(CONDITIONS)
            + ")"
        )


def _node(operator: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One group: terms stay terms, same-operator groups are flattened into this one."""
    if len(parts) == 1:
        return parts[0]
    terms: list[dict[str, Any]] = []
    expressions: list[dict[str, Any]] = []
    for part in parts:
        if "operator" not in part:
            terms.append(part)
        elif part["operator"] == operator:
            terms.extend(part["terms"])
            expressions.extend(part["expressions"])
        else:
            expressions.append(part)
    return {"expressions": expressions, "terms": terms, "operator": operator}


def compile_signal(text: str, syntax_version: int = 1) -> dict[str, Any]:
    """Parse `text` and return Tanium's compiled form; raise `SignalSyntaxError` when invalid."""
    if not text.strip():
        raise SignalSyntaxError("empty signal expression")
    parser = _Parser(tokenize(text))
    root = parser.expr()
    rest = parser.peek()
    if rest is not None:
        raise SignalSyntaxError(f"unexpected {rest.text!r} at position {rest.pos}")
    if "operator" not in root:
        root = {"expressions": [], "terms": [root], "operator": "and"}
    return {**root, "text": text, "syntax_version": syntax_version}
