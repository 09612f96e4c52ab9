"""The GraphQL operations of the pivot: external references to Tanium documents, created,
attached to / detached from the origin objects, deleted, and listed. Validated against the
real schema with every other operation (`queries.all_operations`)."""

from __future__ import annotations

from controller.sources.opencti.queries import PAGE_INFO, Operation

REFERENCE_FIELDS = "id standard_id source_name external_id url description"

REFERENCE_ADD = Operation(
    "OctiTaniumReferenceAdd",
    f"""mutation OctiTaniumReferenceAdd($input: ExternalReferenceAddInput!) {{
  externalReferenceAdd(input: $input) {{ {REFERENCE_FIELDS} }}
}}""",
    "externalReferenceAdd",
    "mutation",
)

REFERENCE_DELETE = Operation(
    "OctiTaniumReferenceDelete",
    """mutation OctiTaniumReferenceDelete($id: ID!) {
  externalReferenceEdit(id: $id) { delete }
}""",
    "externalReferenceEdit",
    "mutation",
)


def _edit(name: str, root: str, variables: str, call: str) -> Operation:
    """`<root>(id: $id) { <call> }`: one attach or detach on an object of `root`'s kind."""
    return Operation(
        name,
        f"""mutation {name}($id: ID!, {variables}) {{
  {root}(id: $id) {{ {call} {{ id }} }}
}}""",
        root,
        "mutation",
    )


_ATTACH = ("$input: StixRefRelationshipAddInput!", "relationAdd(input: $input)")
_DETACH = (
    "$toId: StixRef!",
    'relationDelete(toId: $toId, relationship_type: "external-reference")',
)
ATTACH_TO_DOMAIN_OBJECT = _edit("OctiTaniumReferenceAttachSDO", "stixDomainObjectEdit", *_ATTACH)
ATTACH_TO_OBSERVABLE = _edit("OctiTaniumReferenceAttachSCO", "stixCyberObservableEdit", *_ATTACH)
DETACH_FROM_DOMAIN_OBJECT = _edit("OctiTaniumReferenceDetachSDO", "stixDomainObjectEdit", *_DETACH)
DETACH_FROM_OBSERVABLE = _edit("OctiTaniumReferenceDetachSCO", "stixCyberObservableEdit", *_DETACH)

REFERENCES = Operation(
    "OctiTaniumReferences",
    f"""query OctiTaniumReferences($first: Int!, $after: ID, $filters: FilterGroup) {{
  externalReferences(first: $first, after: $after, filters: $filters) {{
    {PAGE_INFO}
    edges {{ node {{
      {REFERENCE_FIELDS}
      references {{ edges {{ node {{ ... on StixCoreObject {{ id standard_id entity_type }} }} }} }}
    }} }}
  }}
}}""",
    "externalReferences",
)

PIVOT_OPERATIONS = (
    REFERENCE_ADD,
    REFERENCE_DELETE,
    ATTACH_TO_DOMAIN_OBJECT,
    ATTACH_TO_OBSERVABLE,
    DETACH_FROM_DOMAIN_OBJECT,
    DETACH_FROM_OBSERVABLE,
    REFERENCES,
)
