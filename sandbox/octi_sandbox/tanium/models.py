"""The records the emulator holds, and their JSON shapes as Tanium answers them.

Field order of the JSON follows the real responses in `corpus/tanium/intel-docs/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]


def iso(moment: datetime) -> str:
    """Tanium's timestamp form: `2021-04-14T16:45:57.316Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (`Z` or offset; naive means UTC). Raises ValueError."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Source:
    id: int
    name: str
    type: str
    description: str
    created_at: str
    updated_at: str

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass
class Revision:
    revision_id: int
    md5: str
    size: int
    name: str
    updated_at: str

    def to_json(self) -> JSON:
        return {
            "revisionId": self.revision_id,
            "md5": self.md5,
            "size": self.size,
            "name": self.name,
            "updatedAt": self.updated_at,
        }


@dataclass
class IntelDoc:
    id: int
    source_id: int
    type: str
    name: str
    description: str
    intrinsic_id: str | None
    contents: str
    md5: str
    size: int
    created_at: str
    updated_at: str
    revision_id: int = 1
    is_schema_valid: bool = True
    platforms: list[str] | None = None
    mitre_attack: JSON | None = None
    compiled: JSON | None = None
    label_ids: list[int] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)

    def to_json(self, alert_count: int = 0, unresolved: int = 0, full: bool = False) -> JSON:
        """The list/create/update shape; `full` adds `suppressionRules` and `contents` (GET one)."""
        doc: JSON = {
            "id": self.id,
            "revisionId": self.revision_id,
            "type": self.type,
            "typeVersion": "1.0",
            "isSchemaValid": self.is_schema_valid,
            "intrinsicId": self.intrinsic_id,
            "md5": self.md5,
            "name": self.name,
            "description": self.description,
            "size": self.size,
            "alertCount": alert_count,
            "compiled": self.compiled,
            "unresolvedAlertCount": unresolved,
            "labelIds": list(self.label_ids),
        }
        if full:
            doc["suppressionRules"] = []
        doc["sourceId"] = self.source_id
        if full:
            doc["contents"] = self.contents
        doc["mitreAttack"] = self.mitre_attack
        doc["platforms"] = self.platforms
        doc["createdAt"] = self.created_at
        doc["updatedAt"] = self.updated_at
        return doc

    def technique_ids(self) -> set[str]:
        techniques = (self.mitre_attack or {}).get("techniques") or []
        return {str(t.get("id")) for t in techniques if isinstance(t, dict)}


@dataclass
class Label:
    id: int
    name: str
    description: str
    created_at: str
    updated_at: str

    def to_json(self, indicator_count: int = 0, signal_count: int = 0) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "indicatorCount": indicator_count,
            "signalCount": signal_count,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


@dataclass
class Group:
    id: int
    name: str

    def to_json(self) -> JSON:
        return {"id": self.id, "name": self.name}


@dataclass
class Deployment:
    task_id: int
    requested_at: str
    started: float
    """Monotonic clock values: the deployment runs in [started, finished)."""
    finished: float
    revision: int
    doc_revisions: dict[int, int]
    finished_at: str | None = None

    def to_json(self) -> JSON:
        return {
            "taskId": self.task_id,
            "requestedAt": self.requested_at,
            "finishedAt": self.finished_at,
            "revision": self.revision,
            "size": len(self.doc_revisions),
            "docRevisions": {str(k): v for k, v in self.doc_revisions.items()},
        }


@dataclass
class Scan:
    id: int
    computer_group_id: int
    intel_doc_id: int
    revision_id: int
    created_at: str
    question_id: int
    user_id: int = 1

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "alertCount": 0,
            "computerGroupId": self.computer_group_id,
            "createdAt": self.created_at,
            "intelDocId": self.intel_doc_id,
            "questionId": self.question_id,
            "revisionId": self.revision_id,
            "userId": self.user_id,
        }


@dataclass
class ReputationEntry:
    id: int
    list_name: str
    md5: str | None
    sha1: str | None
    sha256: str | None
    uploaded_hash: str | None
    notes: str
    created_at: str

    def hashes(self) -> list[str]:
        return [h for h in (self.md5, self.sha1, self.sha256) if h]

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "list": self.list_name,
            "md5": self.md5,
            "sha1": self.sha1,
            "sha256": self.sha256,
            "notes": self.notes,
            "createdAt": self.created_at,
        }
