"""GraphQL errors shaped like OpenCTI's (§2): `extensions {code, data {http_status, genre}}`.

The HTTP layer adds the top-level `name` (a copy of the code) when it formats them.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

_STATUS = {
    "AUTH_REQUIRED": (401, "BUSINESS"),
    "FORBIDDEN_ACCESS": (403, "BUSINESS"),
    "UNSUPPORTED_ERROR": (500, "TECHNICAL"),
    "FUNCTIONAL_ERROR": (400, "BUSINESS"),
    "VALIDATION_ERROR": (400, "BUSINESS"),
    "MISSING_REFERENCE_ERROR": (404, "BUSINESS"),
    "LOCK_ERROR": (500, "TECHNICAL"),
    "DATABASE_ERROR": (500, "TECHNICAL"),
    "RESOURCE_NOT_FOUND": (404, "BUSINESS"),
    "GRAPHQL_VALIDATION_FAILED": (400, "TECHNICAL"),
    "GRAPHQL_PARSE_FAILED": (400, "TECHNICAL"),
    "BAD_USER_INPUT": (400, "TECHNICAL"),
}
MESSAGES = {
    "AUTH_REQUIRED": "You must be logged in to do this.",
    "FORBIDDEN_ACCESS": "You are not allowed to do this.",
    "LOCK_ERROR": "Execution timeout, too many concurrent call on the same entities",
}


def octi_error(code: str, message: str | None = None, **data: Any) -> GraphQLError:
    status, genre = _STATUS.get(code, (500, "TECHNICAL"))
    return GraphQLError(
        message or MESSAGES.get(code, code),
        extensions={"code": code, "data": {"http_status": status, "genre": genre, **data}},
    )


def auth_required() -> GraphQLError:
    return octi_error("AUTH_REQUIRED")


def forbidden() -> GraphQLError:
    return octi_error("FORBIDDEN_ACCESS")


def unsupported(message: str, **data: Any) -> GraphQLError:
    return octi_error("UNSUPPORTED_ERROR", message, **data)


def functional(message: str, **data: Any) -> GraphQLError:
    return octi_error("FUNCTIONAL_ERROR", message, **data)


def missing_reference(message: str, **data: Any) -> GraphQLError:
    return octi_error("MISSING_REFERENCE_ERROR", message, **data)


def format_error(error: GraphQLError) -> dict[str, Any]:
    """OpenCTI's error shape: the formatted error plus `name` = `extensions.code`."""
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    original = error.original_error
    if "code" not in extensions:
        extensions["code"] = "INTERNAL_SERVER_ERROR" if original is not None else "UNKNOWN_ERROR"
        extensions.setdefault("data", {"http_status": 500, "genre": "TECHNICAL"})
    formatted["extensions"] = extensions
    formatted["name"] = extensions["code"]
    return formatted
