"""Every GraphQL operation the controller can send to OpenCTI, in one place.

`all_operations()` lists them so a test validates each against the real schema
(`opencti.graphql`, graphql-core `validate()`). Node selections are kept lean (§10.11 of the
fact sheet: 100k-object scans): the server's time grows with every field of every node, and
it is most of a listing's time. Everything selected here is something `mapping.py` (or
`fetch_markings`) reads, and nothing more (`tests/opencti/test_opencti_mapping.py` checks
both ways); an indicator's `entity_type` is not asked for, since the `Indicator` fragment
says what it is.
Listings never pass `orderBy`: the server then sorts on `standard_id` (stable while objects
are updated mid-scan) and pages by keyset cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

INDICATOR_FIELDS = """
fragment OctiTaniumIndicator on Indicator {
  id
  standard_id
  name
  description
  pattern
  pattern_type
  valid_from
  valid_until
  revoked
  x_opencti_score
  x_opencti_detection
  x_mitre_platforms
  x_opencti_main_observable_type
  confidence
  created
  modified
  objectLabel { value }
  objectMarking { definition }
}
"""

# The per-type fields are those `controller.sources.stix` reads from a STIX export of the
# same object (`value`, `name`, `path`, `key`, `number`, `user_id`, `subject`, `hashes`).
OBSERVABLE_FIELDS = """
fragment OctiTaniumObservable on StixCyberObservable {
  id
  standard_id
  entity_type
  created_at
  updated_at
  x_opencti_score
  x_opencti_description
  objectLabel { value }
  objectMarking { definition }
  ... on IPv4Addr { value }
  ... on IPv6Addr { value }
  ... on DomainName { value }
  ... on Hostname { value }
  ... on Url { value }
  ... on EmailAddr { value }
  ... on MacAddr { value }
  ... on CryptocurrencyWallet { value }
  ... on UserAgent { value }
  ... on Text { value }
  ... on StixFile { name hashes { algorithm hash } }
  ... on Artifact { hashes { algorithm hash } }
  ... on X509Certificate { subject hashes { algorithm hash } }
  ... on Directory { path }
  ... on Software { name }
  ... on Mutex { name }
  ... on AutonomousSystem { name number }
  ... on UserAccount { user_id }
  ... on EmailMessage { subject }
  ... on WindowsRegistryKey { attribute_key }
}
"""

PAGE_INFO = "pageInfo { hasNextPage endCursor globalCount }"


@dataclass(frozen=True)
class Operation:
    name: str
    """The GraphQL operation name (sent as `operationName`, shown in errors)."""
    document: str
    root_field: str
    kind: Literal["query", "mutation"] = "query"


INDICATORS = Operation(
    "OctiTaniumIndicators",
    f"""query OctiTaniumIndicators($first: Int!, $after: ID, $filters: FilterGroup) {{
  indicators(first: $first, after: $after, filters: $filters) {{
    {PAGE_INFO}
    edges {{ node {{ ...OctiTaniumIndicator }} }}
  }}
}}
{INDICATOR_FIELDS}""",
    "indicators",
)

OBSERVABLES = Operation(
    "OctiTaniumObservables",
    f"""query OctiTaniumObservables(
  $first: Int!, $after: ID, $types: [String], $filters: FilterGroup
) {{
  stixCyberObservables(first: $first, after: $after, types: $types, filters: $filters) {{
    {PAGE_INFO}
    edges {{ node {{ ...OctiTaniumObservable }} }}
  }}
}}
{OBSERVABLE_FIELDS}""",
    "stixCyberObservables",
)

MARKINGS = Operation(
    "OctiTaniumMarkings",
    f"""query OctiTaniumMarkings($first: Int!, $after: ID) {{
  markingDefinitions(first: $first, after: $after) {{
    {PAGE_INFO}
    edges {{ node {{ id definition }} }}
  }}
}}""",
    "markingDefinitions",
)

# ------------------------------------------------------------ incremental fetch (incremental.py)
# Cheap listings: the newest `updated_at` of each family (the high-water mark, read before a
# fetch), and ids only (what changed since, what a policy query matches now).

HIGH_WATER = Operation(
    "OctiTaniumHighWater",
    """query OctiTaniumHighWater {
  indicators(first: 1, orderBy: updated_at, orderMode: desc) { edges { node { updated_at } } }
  stixCyberObservables(first: 1, orderBy: updated_at, orderMode: desc) {
    edges { node { updated_at } }
  }
}""",
    "indicators",
)

INDICATOR_IDS = Operation(
    "OctiTaniumIndicatorIds",
    f"""query OctiTaniumIndicatorIds($first: Int!, $after: ID, $filters: FilterGroup) {{
  indicators(first: $first, after: $after, filters: $filters) {{
    {PAGE_INFO}
    edges {{ node {{ id standard_id updated_at }} }}
  }}
}}""",
    "indicators",
)

OBSERVABLE_IDS = Operation(
    "OctiTaniumObservableIds",
    f"""query OctiTaniumObservableIds(
  $first: Int!, $after: ID, $types: [String], $filters: FilterGroup
) {{
  stixCyberObservables(first: $first, after: $after, types: $types, filters: $filters) {{
    {PAGE_INFO}
    edges {{ node {{ id standard_id updated_at }} }}
  }}
}}""",
    "stixCyberObservables",
)

INDICATOR_BY_ID = Operation(
    "OctiTaniumIndicator",
    f"""query OctiTaniumIndicator($id: String!) {{
  indicator(id: $id) {{ ...OctiTaniumIndicator }}
}}
{INDICATOR_FIELDS}""",
    "indicator",
)

OBSERVABLE_BY_ID = Operation(
    "OctiTaniumObservable",
    f"""query OctiTaniumObservable($id: String!) {{
  stixCyberObservable(id: $id) {{ ...OctiTaniumObservable }}
}}
{OBSERVABLE_FIELDS}""",
    "stixCyberObservable",
)

ABOUT = Operation("OctiTaniumAbout", "query OctiTaniumAbout { about { version } }", "about")

ME = Operation(
    "OctiTaniumMe",
    "query OctiTaniumMe { me { id name user_email capabilities { name } } }",
    "me",
)

# --------------------------------------------------------------------------- sightings write-back
# (used by the Tanium alerts → OpenCTI sightings loop; one mutation field per document, §2)

SIGHTING_FIELDS = (
    "id standard_id fromId toId first_seen last_seen attribute_count x_opencti_negative"
)

SIGHTING_ADD = Operation(
    "OctiTaniumSightingAdd",
    f"""mutation OctiTaniumSightingAdd($input: StixSightingRelationshipAddInput!) {{
  stixSightingRelationshipAdd(input: $input) {{ {SIGHTING_FIELDS} }}
}}""",
    "stixSightingRelationshipAdd",
    "mutation",
)

SIGHTINGS = Operation(
    "OctiTaniumSightings",
    f"""query OctiTaniumSightings($first: Int!, $after: ID, $fromId: StixRef, $toId: StixRef) {{
  stixSightingRelationships(first: $first, after: $after, fromId: $fromId, toId: $toId) {{
    {PAGE_INFO}
    edges {{ node {{ {SIGHTING_FIELDS} }} }}
  }}
}}""",
    "stixSightingRelationships",
)

SYSTEM_ADD = Operation(
    "OctiTaniumSystemAdd",
    """mutation OctiTaniumSystemAdd($input: SystemAddInput!) {
  systemAdd(input: $input) { id standard_id name identity_class }
}""",
    "systemAdd",
    "mutation",
)

IDENTITY_ADD = Operation(
    "OctiTaniumIdentityAdd",
    """mutation OctiTaniumIdentityAdd($input: IdentityAddInput!) {
  identityAdd(input: $input) { id standard_id name entity_type identity_class }
}""",
    "identityAdd",
    "mutation",
)

SYSTEMS = Operation(
    "OctiTaniumSystems",
    """query OctiTaniumSystems($filters: FilterGroup) {
  systems(first: 10, filters: $filters) { edges { node { id standard_id name identity_class } } }
}""",
    "systems",
)


def all_operations() -> tuple[Operation, ...]:
    """Every operation the controller can send (the schema-validation test walks these)."""
    return (
        INDICATORS, OBSERVABLES, MARKINGS, INDICATOR_BY_ID, OBSERVABLE_BY_ID, ABOUT, ME,
        SIGHTING_ADD, SIGHTINGS, SYSTEM_ADD, IDENTITY_ADD, SYSTEMS, HIGH_WATER, INDICATOR_IDS,
        OBSERVABLE_IDS, *_pivot_operations(),
    )  # fmt: skip


def _pivot_operations() -> tuple[Operation, ...]:
    from controller.sources.opencti.pivot_queries import PIVOT_OPERATIONS

    return PIVOT_OPERATIONS
