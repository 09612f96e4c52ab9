"""Alert records: what `POST /__sandbox/alerts` injects, shaped like Tanium 4.x alerts.

Alerts carry every 4.x field (SHIFTER README/fixture); `details` is a JSON *string* holding
`match.properties` (pid, args, user "DOMAIN\\user", file{md5,sha1,sha256,fullpath}, parent) and
`finding` (first_seen, last_seen, intel_id "<docId>:<rev>:<uuid>").
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from .models import JSON, iso, parse_iso
from .state import Alert, TaniumState
from .web import bad_request

ALERT_STATES = ("unresolved", "inprogress", "resolved", "suppressed")
TIME_FIELDS = ("alertedAt", "createdAt", "updatedAt", "receivedAt", "suppressedAt", "ackedAt")


def _details(alert_id: int, doc_id: int, revision: int, moment: str) -> str:
    sha = hashlib.sha256(f"sample-{alert_id % 7}".encode()).hexdigest()
    properties = {
        "pid": 4000 + alert_id,
        "args": "C:\\Windows\\System32\\rundll32.exe zipfldr.dll,RouteTheCall calc.exe",
        "user": "CORP\\alice",
        "file": {
            "md5": sha[:32],
            "sha1": sha[:40],
            "sha256": sha,
            "fullpath": "C:\\Windows\\System32\\rundll32.exe",
        },
        "parent": {
            "pid": 3000 + alert_id,
            "args": "cmd.exe",
            "file": {"fullpath": "C:\\Windows\\System32\\cmd.exe"},
        },
    }
    intel_id = f"{doc_id}:{revision}:{uuid.uuid4()}"
    return json.dumps(
        {
            "match": {"type": "process", "source": "recorder", "properties": properties},
            "finding": {"first_seen": moment, "last_seen": moment, "intel_id": intel_id},
            "intel_id": doc_id,
            "config_id": 1,
            "config_rev_id": 1,
        }
    )


def make_alert(state: TaniumState, spec: JSON) -> Alert:
    """One alert from a partial spec (any alert field; `details` as object or JSON string)."""
    alert_id = state.next_id("alert")
    doc_id = spec.get("intelDocId")
    doc = state.docs.get(doc_id) if isinstance(doc_id, int) else None
    try:
        alerted = parse_iso(spec["alertedAt"]) if spec.get("alertedAt") else state.clock()
        created = parse_iso(spec["createdAt"]) if spec.get("createdAt") else alerted
    except (ValueError, TypeError, AttributeError):
        raise bad_request("alertedAt/createdAt must be ISO 8601 timestamps") from None
    revision = doc.revision_id if doc else 1
    data: JSON = {
        "id": alert_id,
        "eid": alert_id,
        "state": "unresolved",
        "type": "detect.match",
        "guid": str(uuid.uuid4()),
        "priority": "high",
        "severity": "info",
        "details": None,
        "intelDocId": doc_id,
        "groupingId": f"{alert_id:08x}",
        "intelDocRevisionId": revision,
        "scanConfigId": 1,
        "scanConfigRevisionId": 1,
        "computerName": f"host-{alert_id}.corp.example",
        "computerIpAddress": f"10.0.{alert_id // 250 % 250}.{alert_id % 250 + 1}",
        "matchType": "process",
        "path": "C:\\Windows\\System32\\rundll32.exe",
        "receivedAt": iso(created),
        "suppressedAt": None,
        "alertedAt": iso(alerted),
        "findingId": str(uuid.uuid4()),
        "ackedAt": None,
        "firstEIDResolutionAttempt": iso(created),
        "lastEIDResolutionAttempt": iso(created),
        "createdAt": iso(created),
        "updatedAt": iso(created),
    }
    unknown = set(spec) - set(data) - {"count"}
    if unknown:
        raise bad_request(f"unknown alert field(s): {', '.join(sorted(unknown))}")
    data.update({k: v for k, v in spec.items() if k in data and k not in ("id", "count")})
    if data["state"] not in ALERT_STATES:
        raise bad_request(f"alert state must be one of: {', '.join(ALERT_STATES)}")
    details = data["details"]
    if details is None:
        data["details"] = _details(
            alert_id, doc_id if isinstance(doc_id, int) else 0, revision, iso(alerted)
        )
    elif not isinstance(details, str):
        data["details"] = json.dumps(details)
    for name in TIME_FIELDS:
        if isinstance(data[name], str):
            data[name] = iso(parse_iso(data[name]))
    alert = Alert(alert_id, data, alerted, created)
    state.alerts[alert_id] = alert
    if isinstance(doc_id, int):
        state.alerts_by_doc[doc_id].add(alert_id)
    return alert


def inject(state: TaniumState, body: Any) -> list[Alert]:
    """Body: one spec, a list of specs, or a spec with `count` (copies of it)."""
    specs = body if isinstance(body, list) else [body]
    alerts = []
    for spec in specs:
        if not isinstance(spec, dict):
            raise bad_request("each alert must be a JSON object")
        copies = spec.get("count", 1)
        if not isinstance(copies, int) or copies < 1:
            raise bad_request("'count' must be a positive integer")
        alerts += [make_alert(state, spec) for _ in range(copies)]
    return alerts
