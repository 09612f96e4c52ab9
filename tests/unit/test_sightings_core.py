"""The pure aggregation of alerts into sightings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from controller.core.model import Key, TaniumId
from controller.core.sightings import aggregate, sighting_stix_id

T = datetime(2026, 11, 28, 23, 59, tzinfo=UTC)


@dataclass(frozen=True)
class A:
    intel_id: TaniumId | None
    alerted_at: datetime
    computer_name: str = "ws1"
    computer_ip: str = ""
    state: str = "unresolved"

    @property
    def suppressed(self) -> bool:
        return self.state == "suppressed"


OWNERS = {TaniumId(1): Key("domain-name--x"), TaniumId(2): Key("indicator--gone")}
ORIGINS = {Key("domain-name--x"): ("indicator--a", "indicator--b")}


def test_one_sighting_per_object_host_and_utc_day_with_real_bounds() -> None:
    alerts = [
        A(TaniumId(1), T - timedelta(minutes=5)),
        A(TaniumId(1), T),
        A(TaniumId(1), T + timedelta(minutes=2)),  # the next UTC day
        A(TaniumId(1), T, computer_name="", computer_ip="10.0.0.9"),
        A(TaniumId(1), T, state="suppressed"),
        A(TaniumId(2), T),  # owned, but its key is no longer desired
        A(TaniumId(9), T),  # not ours
        A(None, T),
    ]
    out = aggregate(alerts, OWNERS, ORIGINS)
    assert (out.alerts, out.counted, out.suppressed, out.unmapped, out.foreign) == (8, 4, 1, 1, 2)
    day = [w for w in out.writes if w.object_id == "indicator--a" and w.host == "ws1"]
    assert [(w.day.isoformat(), w.count) for w in day] == [("2026-11-28", 2), ("2026-11-29", 1)]
    assert (day[0].first_seen, day[0].last_seen) == (T - timedelta(minutes=5), T)
    assert {w.host for w in out.writes} == {"ws1", "10.0.0.9"}
    assert len(out.writes) == 6  # two objects × (ws1 two days + the IP host)


def test_the_sighting_id_is_a_function_of_object_host_and_day_only() -> None:
    a = sighting_stix_id("indicator--a", "WS1", T.date())
    assert a == sighting_stix_id("indicator--a", "ws1", T.date())
    assert a != sighting_stix_id("indicator--b", "ws1", T.date())
    assert a.startswith("sighting--")


def test_after_a_lost_cursor_alerts_up_to_what_opencti_holds_are_not_counted_again() -> None:
    alerts = [A(TaniumId(1), T - timedelta(minutes=1)), A(TaniumId(1), T)]
    held = {("indicator--a", "ws1"): T - timedelta(minutes=1)}
    out = aggregate(alerts, OWNERS, ORIGINS, held)
    assert out.already == 0 and out.counted == 2
    a = [w for w in out.writes if w.object_id == "indicator--a"]
    b = [w for w in out.writes if w.object_id == "indicator--b"]
    assert [w.count for w in a] == [1] and [w.count for w in b] == [2]
