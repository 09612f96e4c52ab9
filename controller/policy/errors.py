"""pydantic validation errors, said the way a policy author thinks: keys, lists, values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from controller.core.diagnostics import did_you_mean, known_keys_at
from controller.policy.checks import Loc
from controller.policy.models import KINDS

_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "iterable_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "datetime_type": "a date or a timestamp (2024-06-01, 2024-06-01T12:00:00Z)",
    "datetime_parsing": "a date or a timestamp (2024-06-01, 2024-06-01T12:00:00Z)",
    "datetime_from_date_parsing": "a date or a timestamp (2024-06-01, 2024-06-01T12:00:00Z)",
}


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


@dataclass(frozen=True)
class Explained:
    message: str
    loc: Loc
    """The camelCase path of the problem inside the document (the diagnostic's address)."""
    key: bool = False
    """Point at the key rather than at its value."""
    point: Loc | None = None
    """Where to point when not at `loc` itself (a missing key: its parent mapping)."""


def explain(error: Mapping[str, Any], kind: str) -> Explained:
    """Say one pydantic error in the policy's own words, and where it is."""
    message, loc, key = _explain(error, kind)
    if error["type"] == "missing":
        return Explained(message, loc, True, loc[:-1])
    return Explained(message, loc, key)


def _explain(error: Mapping[str, Any], kind: str) -> tuple[str, Loc, bool]:
    loc: Loc = tuple(error["loc"])
    if loc and loc[0] in KINDS:
        loc = loc[1:]  # the discriminated-union tag
    kind_of = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    got = error.get("input")
    if kind_of == "extra_forbidden":
        bad = str(loc[-1])
        known = known_keys_at(kind, loc[:-1])
        message = f"unknown key '{bad}'" + did_you_mean(bad, known)
        if known:
            message += f" (allowed here: {', '.join(known)})"
        return message, loc, True
    if kind_of == "missing":
        # Point at the mapping that lacks the key; the address names the key.
        return f"missing required key '{loc[-1]}'", loc, True
    if kind_of == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
        message = f"{describe(got)} is not allowed (expected one of: {', '.join(options)})"
        return message + did_you_mean(str(got), options), loc, False
    if kind_of == "policy":
        at = tuple(ctx.get("at") or ())
        full = (*loc, *at)
        return str(ctx.get("message", error["msg"])), full, bool(full) and isinstance(full[-1], str)
    if kind_of in _EXPECTED:
        hint = ""
        if kind_of == "string_type" and isinstance(got, int | float | bool):
            hint = " (quote it)"
        if got is None and _EXPECTED[kind_of] == "a mapping":
            hint = " (write {} for an empty mapping)"
        if got is None and _EXPECTED[kind_of] == "a list":
            hint = " (write [] for an empty list)"
        return f"expected {_EXPECTED[kind_of]}, got {describe(got)}{hint}", loc, False
    if kind_of == "string_pattern_mismatch" and loc[-2:] == ("metadata", "name"):
        return (
            f"invalid name {got!r}: use letters, digits, '.', '_' and '-', starting with a "
            "letter or digit",
            loc,
            False,
        )
    if kind_of == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty", loc, False
    if kind_of == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)", loc, False
    message = str(error["msg"])
    if message.startswith("Value error, "):
        return message[len("Value error, ") :], loc, False
    if message.startswith("Input should be "):
        message = "must be " + message[len("Input should be ") :]
    return f"{message} (got {describe(got)})", loc, False
