"""STIX 2.1 patterns → a small typed tree, using the real grammar (stix2-patterns).

The pattern is parsed once, with the same checks and messages as
`stix2patterns.validator.validate(pattern, stix_version="2.1")` (grammar, hash formats,
duplicate qualifiers); the parse tree is then reduced to `Observation`s and `Comparison`s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import antlr4  # type: ignore[import-untyped]
from stix2patterns.exceptions import STIXPatternErrorListener
from stix2patterns.helpers import brackets_check
from stix2patterns.v21 import object_validator
from stix2patterns.v21.grammars.STIXPatternLexer import STIXPatternLexer
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser as P
from stix2patterns.v21.inspector import InspectionListener
from stix2patterns.v21.validator import DuplicateQualifierTypeError, ValidationListener

Scalar = str | int | float | bool
PathStep = str | int
STAR = "*"


@dataclass(frozen=True)
class Comparison:
    object_type: str
    path: tuple[PathStep, ...]
    operator: str
    """`=`, `!=`, `>`, `<`, `>=`, `<=`, `IN`, `LIKE`, `MATCHES`, `ISSUBSET`, `ISSUPERSET`,
    `EXISTS`."""
    values: tuple[Scalar, ...] = ()
    negated: bool = False

    @property
    def property_path(self) -> str:
        return ".".join(f"[{s}]" if isinstance(s, int) else s for s in self.path)


@dataclass(frozen=True)
class Bool:
    operator: Literal["AND", "OR"]
    items: tuple[Node, ...]


Node = Comparison | Bool


@dataclass(frozen=True)
class Observation:
    """`[ ... ]`: one object, its comparisons."""

    expression: Node


@dataclass(frozen=True)
class Observations:
    operator: Literal["AND", "OR", "FOLLOWEDBY"]
    items: tuple[ObsNode, ...]


@dataclass(frozen=True)
class Qualified:
    qualifier: str
    """`WITHIN 300 SECONDS`, `REPEATS 5 TIMES`, `START t'…' STOP t'…'`."""
    inner: ObsNode


ObsNode = Observation | Observations | Qualified


class PatternError(ValueError):
    """The pattern is not valid STIX 2.1; the message is the validator's."""


_SIMPLE = re.compile(
    r"\[[ \t\r\n]*(?P<type>ipv4-addr|ipv6-addr|domain-name|hostname|url|file)"
    r":(?P<path>value|hashes\.(?:MD5|SHA1|SHA256|'MD5'|'SHA-1'|'SHA-256'))"
    r"[ \t\r\n]*=[ \t\r\n]*'(?P<value>(?:[^'\\]|\\['\\])*)'[ \t\r\n]*\]"
)
_HEX = {"MD5": 32, "SHA1": 40, "SHA256": 64}
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")

PLAIN_HASH_NAMES = ("MD5", "SHA1", "SHA256", "'MD5'", "'SHA-1'", "'SHA-256'")
"""The hash names `PLAIN` reads, as written."""
PLAIN = re.compile(
    r"\[[ \t\r\n]*(?:(ipv4-addr|ipv6-addr|domain-name|hostname|url):value"
    rf"|file:hashes\.({'|'.join(PLAIN_HASH_NAMES)}))"
    r"[ \t\r\n]*=[ \t\r\n]*'([\x20-\x26\x28-\x5b\x5d-\x7e]*)'[ \t\r\n]*\]"
)
"""The commonest patterns, as `_SIMPLE` reads them, with a plain value: printable ASCII
without a quote or backslash, so nothing to unescape and nothing `printable` refuses. Groups:
the value's type (or None), the hash name as written (or None), the value. `convert` renders
these without a tree (`tests/render/test_render_plain_stix.py` compares with the tree)."""


def _simple(pattern: str) -> Observation | None:
    """The tree of the commonest patterns (`[type:value = '…']`, `[file:hashes.X = '…']`)
    without the ANTLR parser — only where the parser provably yields the same tree."""
    match = _SIMPLE.fullmatch(pattern)
    if match is None:
        return None
    kind, path = match.group("type"), match.group("path")
    value = match.group("value").replace("\\'", "'").replace("\\\\", "\\")
    steps: tuple[PathStep, ...] = ("value",)
    if path != "value":
        if kind != "file":
            return None
        algorithm = path.split(".", 1)[1].strip("'")
        expected = _HEX[algorithm.replace("-", "")]
        if len(value) != expected or not _HEX_DIGITS.fullmatch(value):
            return None  # the full validator reports the bad hash
        steps = ("hashes", algorithm)
    elif kind == "file":
        return None
    return Observation(Comparison(kind, steps, "=", (value,)))


def parse_pattern(pattern: str) -> ObsNode:
    """The tree of a STIX 2.1 pattern; raises `PatternError` with the validator's messages."""
    return _simple(pattern) or _parse(pattern)


@lru_cache(maxsize=65536)
def _parse(pattern: str) -> ObsNode:
    listener = STIXPatternErrorListener()
    lexer = STIXPatternLexer(antlr4.InputStream(pattern))
    lexer.removeErrorListeners()
    parser = P(antlr4.CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    for i, literal in enumerate(parser.literalNames):
        if literal == "<INVALID>":
            parser.literalNames[i] = parser.symbolicNames[i]
    tree = parser.pattern()
    errors: list[str] = list(listener.err_strings)
    if not errors:
        inspector = InspectionListener()
        antlr4.ParseTreeWalker.DEFAULT.walk(inspector, tree)
        errors.extend(object_validator.verify_object(inspector.pattern_data()))
        try:
            antlr4.ParseTreeWalker.DEFAULT.walk(ValidationListener(), tree)
        except DuplicateQualifierTypeError as exc:
            errors.insert(0, "FAIL: " + exc.args[0])
    if not brackets_check(pattern):
        errors.insert(0, "FAIL: Error found at line 1:0. input is missing square brackets")
    if errors:
        raise PatternError("; ".join(errors))
    return _observations(tree.observationExpressions())


def _observations(ctx: Any) -> ObsNode:
    if isinstance(ctx, P.ObservationExpressionsContext):
        return _join("FOLLOWEDBY", ctx.observationExpressions(), ctx.observationExpressionOr())
    if isinstance(ctx, P.ObservationExpressionOrContext):
        return _join("OR", ctx.observationExpressionOr(), ctx.observationExpressionAnd())
    if isinstance(ctx, P.ObservationExpressionAndContext):
        return _join("AND", ctx.observationExpressionAnd(), ctx.observationExpression())
    if isinstance(ctx, P.ObservationExpressionSimpleContext):
        return Observation(_comparisons(ctx.comparisonExpression()))
    if isinstance(ctx, P.ObservationExpressionCompoundContext):
        return _observations(ctx.observationExpressions())
    for qualifier in ("withinQualifier", "repeatedQualifier", "startStopQualifier"):
        if hasattr(ctx, qualifier):
            text = " ".join(c.getText() for c in getattr(ctx, qualifier)().getChildren())
            return Qualified(text, _observations(ctx.observationExpression()))
    raise PatternError(f"unexpected pattern element {type(ctx).__name__}")  # pragma: no cover


def _join(op: Literal["AND", "OR", "FOLLOWEDBY"], many: list[Any], single: Any) -> ObsNode:
    if not many:
        return _observations(single)
    parts: list[ObsNode] = []
    for child in many:
        node = _observations(child)
        if isinstance(node, Observations) and node.operator == op:
            parts.extend(node.items)
        else:
            parts.append(node)
    return Observations(op, tuple(parts))


def _comparisons(ctx: Any) -> Node:
    if isinstance(ctx, P.ComparisonExpressionContext):
        return _bool("OR", ctx.comparisonExpression(), ctx.comparisonExpressionAnd())
    if isinstance(ctx, P.ComparisonExpressionAndContext):
        return _bool("AND", ctx.comparisonExpressionAnd(), ctx.propTest())
    if isinstance(ctx, P.PropTestParenContext):
        return _comparisons(ctx.comparisonExpression())
    return _prop_test(ctx)


def _bool(op: Literal["AND", "OR"], many: list[Any], single: Any) -> Node:
    if not many:
        return _comparisons(single)
    parts: list[Node] = []
    for child in many:
        node = _comparisons(child)
        parts.extend(node.items if isinstance(node, Bool) and node.operator == op else [node])
    return Bool(op, tuple(parts))


def _prop_test(ctx: Any) -> Comparison:
    object_type, path = _object_path(ctx.objectPath())
    negated = ctx.NOT() is not None
    if isinstance(ctx, P.PropTestEqualContext):
        op = "=" if ctx.EQ() is not None else "!="
        values: tuple[Scalar, ...] = (_literal(ctx.primitiveLiteral()),)
    elif isinstance(ctx, P.PropTestOrderContext):
        op = (ctx.GT() or ctx.LT() or ctx.GE() or ctx.LE()).getText()
        values = (_literal(ctx.orderableLiteral()),)
    elif isinstance(ctx, P.PropTestSetContext):
        op, values = "IN", tuple(_literal(lit) for lit in ctx.setLiteral().primitiveLiteral())
    elif isinstance(ctx, P.PropTestExistsContext):
        op, values = "EXISTS", ()
    else:
        op = {
            P.PropTestLikeContext: "LIKE",
            P.PropTestRegexContext: "MATCHES",
            P.PropTestIsSubsetContext: "ISSUBSET",
            P.PropTestIsSupersetContext: "ISSUPERSET",
        }[type(ctx)]
        values = (_string(ctx.StringLiteral().getText()),)
    return Comparison(object_type, path, op, values, negated)


def _object_path(ctx: Any) -> tuple[str, tuple[PathStep, ...]]:
    first = ctx.firstPathComponent()
    steps: tuple[PathStep, ...] = (
        _string(first.getText()) if first.StringLiteral() else first.getText(),
    )
    component = ctx.objectPathComponent()
    if component is not None:
        steps += tuple(_steps(component))
    return str(ctx.objectType().getText()), steps


def _steps(ctx: Any) -> list[PathStep]:
    if isinstance(ctx, P.PathStepContext):
        return [s for child in ctx.objectPathComponent() for s in _steps(child)]
    if isinstance(ctx, P.KeyPathStepContext):
        token = ctx.IdentifierWithoutHyphen()
        return [token.getText() if token is not None else _string(ctx.StringLiteral().getText())]
    if ctx.ASTERISK() is not None:
        return [STAR]
    return [int((ctx.IntPosLiteral() or ctx.IntNegLiteral()).getText())]


def _string(token_text: str) -> str:
    return token_text[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def _literal(ctx: Any) -> Scalar:
    """A primitive, orderable or boolean literal → its Python value."""
    if isinstance(ctx, P.PrimitiveLiteralContext):
        if ctx.BoolLiteral() is not None:
            return bool(ctx.getText().lower() == "true")
        return _literal(ctx.orderableLiteral())
    text: str = ctx.getText()
    if ctx.StringLiteral() is not None:
        return _string(text)
    if ctx.IntPosLiteral() is not None or ctx.IntNegLiteral() is not None:
        return int(text)
    if ctx.FloatPosLiteral() is not None or ctx.FloatNegLiteral() is not None:
        return float(text)
    return text  # binary b'…', hex h'…', timestamp t'…': kept verbatim
