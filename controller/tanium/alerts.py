"""Reads: Threat Response alerts (`GET TR/alerts`), for the sightings loop.

Alerts are listed oldest first (`sort=alertedAt,id`) in a closed window
`[alertedAtFrom, alertedAtUntil)`, by `limit`/`offset` pages of at most 500 (the documented
maximum). Paging by offset inside a fixed window never stalls: many alerts sharing one
`alertedAt`, or a whole page of suppressed alerts, only move the offset on. Nothing is filtered
server-side (suppressed alerts are skipped by the caller), so a page is short only at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from controller.core.model import TaniumId
from controller.core.timestamps import format_time, parse_time
from controller.tanium.errors import ProtocolError
from controller.tanium.transport import Transport

TR = "/plugin/products/threat-response/api/v1"
ALERTS_PAGE_MAX = 500
"""`limit` of `GET TR/alerts`: default 100, at most 500."""


@dataclass(frozen=True, slots=True)
class Alert:
    """The fields of a Tanium alert the sightings loop uses."""

    id: int
    intel_id: TaniumId | None
    state: str
    alerted_at: datetime
    computer_name: str
    computer_ip: str = ""

    @property
    def suppressed(self) -> bool:
        return self.state == "suppressed"


def _alert(raw: Any, where: str) -> Alert:
    if not isinstance(raw, dict):
        raise ProtocolError("expected alert objects", path=where, body=repr(raw)[:200])
    alerted = parse_time(raw.get("alertedAt")) or parse_time(raw.get("createdAt"))
    alert_id, intel = raw.get("id"), raw.get("intelDocId")
    if not isinstance(alert_id, int) or alerted is None:
        raise ProtocolError(
            "an alert without an integer id or an ISO 8601 alertedAt",
            path=where,
            body=repr({k: raw.get(k) for k in ("id", "alertedAt", "createdAt")})[:200],
        )
    if isinstance(intel, str) and intel.isdigit():
        intel = int(intel)
    return Alert(
        id=alert_id,
        intel_id=TaniumId(intel) if isinstance(intel, int) else None,
        state=str(raw.get("state") or "").lower(),
        alerted_at=alerted.astimezone(UTC),
        computer_name=str(raw.get("computerName") or "").strip(),
        computer_ip=str(raw.get("computerIpAddress") or "").strip(),
    )


class TaniumAlerts:
    """Alert reads; mixed into `TaniumClient`, which sets `_t`."""

    _t: Transport

    async def list_alerts(
        self, since: datetime, until: datetime, *, page_size: int = ALERTS_PAGE_MAX
    ) -> list[Alert]:
        """Every alert with `since <= alertedAt < until`, oldest first (suppressed included),
        each once even if the server repeats one across pages."""
        limit = max(1, min(page_size, ALERTS_PAGE_MAX))
        path = f"{TR}/alerts"
        seen: dict[int, Alert] = {}
        offset = 0
        while True:
            params: dict[str, str | int] = {
                "alertedAtFrom": format_time(since),
                "alertedAtUntil": format_time(until),
                "sort": "alertedAt,id",
                "limit": limit,
                "offset": offset,
            }
            reply = await self._t.request("GET", path, params=params)
            page = reply.data if reply.data is not None else []
            if not isinstance(page, list):
                raise ProtocolError("expected a list of alerts", path=path, body=repr(page)[:200])
            for raw in page:
                alert = _alert(raw, path)
                seen.setdefault(alert.id, alert)
            if len(page) < limit:
                break
            offset += len(page)
        return sorted(seen.values(), key=lambda a: (a.alerted_at, a.id))
