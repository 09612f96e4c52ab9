"""The real OpenCTI GraphQL schema (7.260817.0, merged), loaded once per process.

`opencti.graphql` next to this module is a copy of the merged schema described in
`opencti-api.md` §1 (base file + 70 module files). Live introspection is disabled on real
platforms, so this file is how the controller's operations are validated offline (tests) and
what the emulator executes. Parsing it takes about a second; `load_schema()` caches it.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, build_ast_schema, parse, validate

SCHEMA_PATH = Path(__file__).with_name("opencti.graphql")
SCHEMA_VERSION = "7.260817.0"

load_seconds: float | None = None
"""How long the first `load_schema()` took (parse + build), for the curious and the bench."""


def schema_sdl() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def build_schema_from_sdl() -> GraphQLSchema:
    """A fresh schema object (the emulator attaches resolvers to its own copy)."""
    return build_ast_schema(parse(schema_sdl(), no_location=True), assume_valid_sdl=True)


@cache
def load_schema() -> GraphQLSchema:
    """The shared, read-only schema for validation. Never attach resolvers to it."""
    global load_seconds
    started = time.perf_counter()
    schema = build_schema_from_sdl()
    load_seconds = time.perf_counter() - started
    return schema


def validation_errors(query: str, schema: GraphQLSchema | None = None) -> list[GraphQLError]:
    """graphql-core `validate()` of one operation document against the OpenCTI schema."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return [exc]
    return validate(schema or load_schema(), document)
