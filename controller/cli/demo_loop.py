"""The demo's closed loop: alerts on day two, then what an analyst sees in OpenCTI — the
pivot reference on an indicator and the sightings the next pass wrote."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console

OURS = "OpenCTI (octi-tanium)"
REFS_AND_SIGHTINGS = """query($id: String!, $ref: StixRef) {
  indicator(id: $id) {
    name
    externalReferences { edges { node { source_name external_id url } } }
  }
  stixSightingRelationships(fromId: $ref, first: 20) {
    edges { node { attribute_count first_seen last_seen to { ... on System { name } } } }
  }
}"""


def _key(doc: dict[str, Any]) -> str:
    """The desired key in a document's ownership marker ("" without one)."""
    found = re.search(r"\[octi-tanium:v1 key=([^\s\]]+)", doc.get("description") or "")
    return found.group(1) if found else ""


def inject_alerts(env: dict[str, str], console: Console, *, avoid: str) -> int:
    """Three alerts, on two endpoints, on one of our documents made from an indicator (not
    the one named `avoid`, revoked on day two)."""
    state = httpx.get(f"{env['TANIUM_URL']}/__sandbox/state", timeout=10).json()
    ours = {s["id"] for s in state["sources"] if s["name"] == OURS}
    doc = next(
        d
        for d in state["intels"]
        if d["sourceId"] in ours and _key(d).startswith("indicator--") and d["name"] != avoid
    )
    when = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    alerts = [
        {"intelDocId": doc["id"], "computerName": "ws-finance-07", "alertedAt": when, "count": 2},
        {"intelDocId": doc["id"], "computerName": "srv-dc-01", "alertedAt": when},
    ]
    httpx.post(f"{env['TANIUM_URL']}/__sandbox/alerts", json=alerts, timeout=10).raise_for_status()
    console.print(
        f"  Tanium: 3 alerts fire on [bold]{doc['name']}[/] (ws-finance-07 ×2, srv-dc-01)\n"
    )
    return int(doc["id"])


def show_opencti(env: dict[str, str], doc_id: int, console: Console) -> None:
    """The indicator behind `doc_id`, its Tanium reference and its sightings, from OpenCTI."""
    state = httpx.get(f"{env['TANIUM_URL']}/__sandbox/state", timeout=10).json()
    doc = next(d for d in state["intels"] if d["id"] == doc_id)
    key = _key(doc)
    reply = httpx.post(
        f"{env['OPENCTI_URL']}/graphql",
        json={"query": REFS_AND_SIGHTINGS, "variables": {"id": key, "ref": key}},
        headers={"Authorization": f"Bearer {env['OPENCTI_TOKEN']}"},
        timeout=10,
    ).json()
    if reply.get("errors"):
        raise SystemExit(f"error: OpenCTI answered {reply['errors'][0].get('message')}")
    data: dict[str, Any] = reply.get("data") or {}
    indicator = data.get("indicator") or {}
    console.print(f"  OpenCTI, indicator [bold]{indicator.get('name', key)}[/]:")
    for edge in (indicator.get("externalReferences") or {}).get("edges", []):
        ref = edge["node"]
        console.print(
            f"    External reference  {ref['source_name']} {ref['external_id']}  {ref['url']}"
        )
    for edge in (data.get("stixSightingRelationships") or {}).get("edges", []):
        s = edge["node"]
        console.print(
            f"    Sighting  at {s['to']['name']}  ×{s['attribute_count']}  "
            f"{s['first_seen']} → {s['last_seen']}"
        )
    console.print()
