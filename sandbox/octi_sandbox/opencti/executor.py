"""One GraphQL request, as OpenCTI's Apollo server handles it.

parse → validate against the real schema (GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED) →
introspection refusal → alias / batching protection (a Query field at most twice, a Mutation
field at most once per operation) → variable coercion (BAD_USER_INPUT) → graphql-core
execution. Parsing and validation are cached per query text, so paging through a listing
costs the execution only. Every answer is HTTP 200 with `errors[]` in OpenCTI's shape.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeGuard

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from octi_sandbox.opencti.config import OpenCTIConfig
from octi_sandbox.opencti.context import Context
from octi_sandbox.opencti.errors import format_error, octi_error
from octi_sandbox.opencti.resolvers import emulator_schema

JSON = dict[str, Any]
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Prepared:
    """A parsed, validated operation (or the errors that stopped it)."""

    document: DocumentNode | None
    operation: OperationDefinitionNode | None
    errors: tuple[GraphQLError, ...] = ()

    @property
    def kind(self) -> str:
        return self.operation.operation.value if self.operation is not None else ""

    @property
    def root_fields(self) -> list[str]:
        if self.operation is None or self.document is None:
            return []
        return _root_fields(self.operation.selection_set, self.document)


def _root_fields(selection: SelectionSetNode, document: DocumentNode) -> list[str]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    out: list[str] = []
    for node in selection.selections:
        if isinstance(node, FieldNode):
            if not node.name.value.startswith("__"):
                out.append(node.name.value)
        elif isinstance(node, InlineFragmentNode):
            out.extend(_root_fields(node.selection_set, document))
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            out.extend(_root_fields(fragments[node.name.value].selection_set, document))
    return out


class Executor:
    def __init__(self, config: OpenCTIConfig) -> None:
        self.config = config
        self.schema = emulator_schema()
        self._prepared: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()

    def prepare(self, query: str, operation_name: str | None) -> Prepared:
        key = (query, operation_name)
        found = self._prepared.get(key)
        if found is None:
            found = self._prepare(query, operation_name)
            self._prepared[key] = found
            while len(self._prepared) > _CACHE_SIZE:
                self._prepared.popitem(last=False)
        return found

    def _prepare(self, query: str, operation_name: str | None) -> Prepared:
        if self.config.reject_introspection and "__schema" in query:
            error = octi_error("RESOURCE_NOT_FOUND", "GraphQL introspection is not allowed")
            return Prepared(None, None, (error,))
        try:
            document = parse(query)
        except GraphQLError as exc:
            return Prepared(None, None, (_coded(exc, "GRAPHQL_PARSE_FAILED"),))
        errors = validate(self.schema, document)
        if errors:
            return Prepared(
                document, None, tuple(_coded(e, "GRAPHQL_VALIDATION_FAILED") for e in errors)
            )
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            which = f"named {operation_name!r}" if operation_name else "(give operationName)"
            error = octi_error("BAD_REQUEST", f"Unknown or ambiguous operation {which}")
            return Prepared(document, None, (error,))
        prepared = Prepared(document, operation)
        limit = (
            self.config.max_mutation_field_uses
            if prepared.kind == "mutation"
            else self.config.max_query_field_uses
        )
        root = "Mutation" if prepared.kind == "mutation" else "Query"
        for name, uses in Counter(prepared.root_fields).items():
            if uses > limit:
                message = (
                    f"Allowed number of calls for field '{root}.{name}' is {limit}, got {uses}"
                )
                return Prepared(document, None, (octi_error("GRAPHQL_VALIDATION_FAILED", message),))
        return prepared

    def run(self, prepared: Prepared, variables: Any, context: Context) -> JSON:
        if prepared.errors or prepared.operation is None or prepared.document is None:
            return {"errors": [format_error(e) for e in prepared.errors]}
        if variables is not None and not isinstance(variables, dict):
            return {
                "errors": [
                    format_error(octi_error("BAD_USER_INPUT", "variables must be an object"))
                ]
            }
        coerced = get_variable_values(
            self.schema, prepared.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return {"errors": [format_error(_coded(e, "BAD_USER_INPUT")) for e in coerced]}
        result = execute(
            self.schema,
            prepared.document,
            context_value=context,
            variable_values=variables or {},
            operation_name=prepared.operation.name.value if prepared.operation.name else None,
            is_awaitable=_never_awaitable,  # every resolver is synchronous
        )
        assert isinstance(result, ExecutionResult)
        body: JSON = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        return body


def _never_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return False


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", code)
    extensions.setdefault("data", {"http_status": 400, "genre": "TECHNICAL"})
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        extensions,
    )
