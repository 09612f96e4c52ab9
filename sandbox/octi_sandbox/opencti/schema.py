"""The real OpenCTI GraphQL schema (7.260817.0, merged) the emulator executes.

`opencti.graphql` next to this module is the emulator's own copy of the merged schema
described in `opencti-api.md` §1 (base file + 70 module files); the controller ships another
copy for its offline validation, and neither package reads the other's.
"""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLSchema, build_ast_schema, parse

SCHEMA_PATH = Path(__file__).with_name("opencti.graphql")


def build_schema() -> GraphQLSchema:
    """A fresh schema object, to attach the emulator's resolvers to (about a second)."""
    sdl = SCHEMA_PATH.read_text(encoding="utf-8")
    return build_ast_schema(parse(sdl, no_location=True), assume_valid_sdl=True)
