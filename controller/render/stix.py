"""`pattern_type: stix` → an OpenIOC term tree, or the reason it cannot be one faithfully.

OpenIOC has AND/OR Indicator nodes and item terms that are evaluated against one endpoint
item at a time. So comparisons inside one observation (`[a AND b]`, `[a OR b]`) and OR between
observations translate faithfully; AND between observations, FOLLOWEDBY, WITHIN, REPEATS and
START/STOP (several observations, order, time windows, counts) do not and are refused, as are
operators other than `=` and `IN`.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.render import openioc
from controller.render.canonical import canonical_value, hash_algorithm, hash_problem
from controller.render.openioc import Tree
from controller.render.stix_pattern import (
    Bool,
    Comparison,
    Node,
    Observation,
    Observations,
    ObsNode,
    Qualified,
)
from controller.render.text import printable

VALUE_TERMS = {
    "ipv4-addr": ("PortItem/remoteIP", "IP"),
    "ipv6-addr": ("PortItem/remoteIP", "IP"),
    "domain-name": ("Network/DNS", "string"),
    "hostname": ("Network/DNS", "string"),
    "x-opencti-hostname": ("Network/DNS", "string"),
    "url": ("UrlHistoryItem/URL", "string"),
}
HASH_TERMS = {
    "md5": ("FileItem/Md5sum", "md5"),
    "sha1": ("FileItem/Sha1sum", "sha1"),
    "sha256": ("FileItem/Sha256sum", "sha256"),
}
FILE_TERMS = {"name": ("FileItem/FileName", "string"), "size": ("FileItem/SizeInBytes", "int")}
MAPPED = (
    "ipv4-addr:value, ipv6-addr:value, domain-name:value, hostname:value, url:value, "
    "file:hashes.(MD5|SHA-1|SHA-256), file:name, file:size"
)


class Unfaithful(ValueError):
    """The pattern is valid but OpenIOC cannot hold its meaning; the message says why."""


@dataclass(frozen=True)
class Atomic:
    """A pattern that is exactly one `=` comparison of a single value or file hash."""

    kind: str
    """`ipv4-addr`, `domain-name`, …, or `file` (then `algorithm` is set)."""
    value: str
    algorithm: str | None = None


def to_tree(pattern: ObsNode) -> Tree:
    if isinstance(pattern, Qualified):
        raise Unfaithful(
            f"qualifier '{pattern.qualifier}' (a time window, repetition count or start/stop "
            "interval) cannot be expressed in an OpenIOC document"
        )
    if isinstance(pattern, Observations):
        if pattern.operator == "FOLLOWEDBY":
            raise Unfaithful(
                "FOLLOWEDBY (observations in temporal order) cannot be expressed in OpenIOC"
            )
        if pattern.operator == "AND":
            raise Unfaithful(
                "AND between observations ('[...] AND [...]': two separate observations) cannot "
                "be expressed in OpenIOC, which evaluates one item at a time"
            )
        return openioc.node("OR", [to_tree(item) for item in pattern.items])
    return _expression(pattern.expression)


def _expression(expr: Node) -> Tree:
    if isinstance(expr, Bool):
        if expr.operator == "AND":
            kinds = sorted({c.object_type for c in _comparisons(expr)})
            if len(kinds) > 1:
                raise Unfaithful(
                    f"AND across object types in one observation ({', '.join(kinds)}): STIX "
                    "means one object having both; OpenIOC would match two different items"
                )
        return openioc.node(expr.operator, [_expression(item) for item in expr.items])
    return _comparison(expr)


def _comparisons(expr: Node) -> list[Comparison]:
    if isinstance(expr, Bool):
        return [c for item in expr.items for c in _comparisons(item)]
    return [expr]


def _where(c: Comparison) -> str:
    return f"{c.object_type}:{c.property_path}"


def _comparison(c: Comparison) -> Tree:
    if c.negated or c.operator not in ("=", "IN"):
        op = ("NOT " if c.negated else "") + c.operator
        raise Unfaithful(
            f"operator '{op}' on {_where(c)} cannot be expressed faithfully in OpenIOC "
            "(only '=' and 'IN' are converted)"
        )
    terms = [_term(c, value) for value in c.values]
    return terms[0] if len(terms) == 1 else openioc.node("OR", terms)


def _term(c: Comparison, value: object) -> Tree:
    if isinstance(value, str) and not printable(value):
        raise Unfaithful(f"{_where(c)} value has control characters an OpenIOC item cannot hold")
    path = c.path
    if path == ("value",) and c.object_type in VALUE_TERMS:
        search, content_type = VALUE_TERMS[c.object_type]
        canonical = canonical_value(c.object_type, value) if isinstance(value, str) else None
        if canonical is None:
            raise Unfaithful(f"{_where(c)} value {value!r} is not a valid {c.object_type}")
        if "/" in canonical and c.object_type.startswith("ipv"):
            raise Unfaithful(f"{_where(c)} is a CIDR range ({canonical}); OpenIOC needs addresses")
        return openioc.term(search, content_type, canonical)
    if c.object_type == "file" and len(path) == 2 and path[0] == "hashes":
        algorithm = hash_algorithm(str(path[1]))
        if algorithm is None:
            which = "any hash ([*])" if path[1] == "*" else f"hash {path[1]}"
            raise Unfaithful(f"{which} has no OpenIOC term (MD5, SHA-1, SHA-256 only)")
        problem = hash_problem(algorithm, str(value))
        if problem:
            raise Unfaithful(problem)
        search, content_type = HASH_TERMS[algorithm]
        return openioc.term(search, content_type, str(value).lower())
    if c.object_type == "file" and len(path) == 1 and path[0] in FILE_TERMS:
        search, content_type = FILE_TERMS[str(path[0])]
        whole = isinstance(value, int) and not isinstance(value, bool)
        if content_type == "int" and not (whole or (isinstance(value, str) and value.isdigit())):
            raise Unfaithful(f"{_where(c)} value {value!r} is not a whole number")
        return openioc.term(search, content_type, str(value))
    raise Unfaithful(f"{_where(c)} has no OpenIOC term (converted: {MAPPED})")


def atomic(pattern: ObsNode, tree: Tree | None = None) -> Atomic | None:
    """The single value a pattern compares to, when it is exactly one `=` comparison.
    `tree`: `to_tree(pattern)` when it is already made — its term holds the canonical value,
    which is then not computed a second time."""
    if not isinstance(pattern, Observation) or not isinstance(pattern.expression, Comparison):
        return None
    c = pattern.expression
    if c.negated or c.operator != "=" or not isinstance(c.values[0], str):
        return None
    if c.path == ("value",) and c.object_type in VALUE_TERMS:
        made = tree.get("value") if tree is not None else None
        canonical = made if isinstance(made, str) else canonical_value(c.object_type, c.values[0])
        return Atomic(c.object_type, canonical) if canonical else None
    if c.object_type == "file" and len(c.path) == 2 and c.path[0] == "hashes":
        algorithm = hash_algorithm(str(c.path[1]))
        if algorithm and hash_problem(algorithm, c.values[0]) is None:
            return Atomic("file", c.values[0].lower(), algorithm)
    return None
