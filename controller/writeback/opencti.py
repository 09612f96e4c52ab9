"""The OpenCTI writes of the sightings loop: one `System` identity per Tanium endpoint, one
upsert per sighting, and the look-up of what OpenCTI already holds (after a lost cursor).

Every call goes through `GraphQLClient.execute` (the one retry loop, the OpenCTI error tree);
the documents are in `controller.sources.opencti.queries`, validated against the real schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from controller.core.sightings import SightingWrite
from controller.core.timestamps import format_time, parse_time
from controller.sources.opencti.client import GraphQLClient
from controller.sources.opencti.errors import OpenCTIProtocolError
from controller.sources.opencti.queries import SIGHTING_ADD, SIGHTINGS, SYSTEM_ADD

DESCRIPTION = "Tanium Threat Response alerts, reported by octi-tanium"


def _field(data: Any, root: str, name: str, operation: str) -> Any:
    node = data.get(root) if isinstance(data, dict) else None
    if not isinstance(node, dict) or name not in node:
        raise OpenCTIProtocolError(
            f"{operation}: the answer has no {root}.{name}", operation=operation
        )
    return node[name]


async def system_id(client: GraphQLClient, host: str) -> str:
    """The OpenCTI id of the `System` identity named after a Tanium endpoint (created on first
    use; OpenCTI upserts identities by name, so this is idempotent)."""
    data = await client.execute(
        SYSTEM_ADD,
        {"input": {"name": host, "description": "Tanium endpoint (octi-tanium sightings)"}},
    )
    return str(_field(data, "systemAdd", "id", SYSTEM_ADD.name))


async def write_sighting(client: GraphQLClient, write: SightingWrite, where: str) -> int:
    """Upsert one sighting of `write.object_id` at the identity `where`; the server's
    `attribute_count` after the write."""
    data = await client.execute(
        SIGHTING_ADD,
        {
            "input": {
                "fromId": write.object_id,
                "toId": where,
                "first_seen": format_time(write.first_seen),
                "last_seen": format_time(write.last_seen),
                "attribute_count": write.count,
                "stix_id": write.stix_id,
                "description": DESCRIPTION,
                "x_opencti_negative": False,
            }
        },
    )
    return int(_field(data, "stixSightingRelationshipAdd", "attribute_count", SIGHTING_ADD.name))


async def counted_until(client: GraphQLClient, object_id: str, where: str) -> datetime | None:
    """The latest `last_seen` of the sightings of `object_id` at `where` (None: none yet)."""
    latest: datetime | None = None
    after: str | None = None
    while True:
        data = await client.execute(
            SIGHTINGS, {"first": 500, "after": after, "fromId": object_id, "toId": where}
        )
        conn = data.get("stixSightingRelationships") if isinstance(data, dict) else None
        if not isinstance(conn, dict):
            raise OpenCTIProtocolError(
                f"{SIGHTINGS.name}: no stixSightingRelationships", operation=SIGHTINGS.name
            )
        for edge in conn.get("edges") or ():
            seen = parse_time((edge.get("node") or {}).get("last_seen"))
            if seen is not None and (latest is None or seen > latest):
                latest = seen
        info = conn.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return latest
        after = info.get("endCursor")
