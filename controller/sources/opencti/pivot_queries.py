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

ATTACH_TO_DOMAIN_OBJECT = Operation(
    "OctiTaniumReferenceAttachSDO",
    """mutation OctiTaniumReferenceAttachSDO($id: ID!, $input: StixRefRelationshipAddInput!) {
  stixDomainObjectEdit(id: $id) { relationAdd(input: $input) { id } }
}""",
    "stixDomainObjectEdit",
    "mutation",
)

ATTACH_TO_OBSERVABLE = Operation(
    "OctiTaniumReferenceAttachSCO",
    """mutation OctiTaniumReferenceAttachSCO($id: ID!, $input: StixRefRelationshipAddInput!) {
  stixCyberObservableEdit(id: $id) { relationAdd(input: $input) { id } }
}""",
    "stixCyberObservableEdit",
    "mutation",
)

DETACH_FROM_DOMAIN_OBJECT = Operation(
    "OctiTaniumReferenceDetachSDO",
    """mutation OctiTaniumReferenceDetachSDO($id: ID!, $toId: StixRef!) {
  stixDomainObjectEdit(id: $id) {
    relationDelete(toId: $toId, relationship_type: "external-reference") { id }
  }
}""",
    "stixDomainObjectEdit",
    "mutation",
)

DETACH_FROM_OBSERVABLE = Operation(
    "OctiTaniumReferenceDetachSCO",
    """mutation OctiTaniumReferenceDetachSCO($id: ID!, $toId: StixRef!) {
  stixCyberObservableEdit(id: $id) {
    relationDelete(toId: $toId, relationship_type: "external-reference") { id }
  }
}""",
    "stixCyberObservableEdit",
    "mutation",
)

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
