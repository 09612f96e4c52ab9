from datetime import UTC, datetime, timedelta

from controller.core.model import SourceObject
from controller.core.selection import lifecycle_reason, next_change, selects
from controller.policy.models import Select

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def indicator(**kw: object) -> SourceObject:
    base: dict[str, object] = {
        "standard_id": "indicator--1",
        "entity_type": "Indicator",
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
    }
    base.update(kw)
    return SourceObject.model_validate(base)


def test_empty_select_takes_everything() -> None:
    assert selects(Select(), indicator(), now=NOW)
    obs = SourceObject(standard_id="ipv4-addr--1", entity_type="IPv4-Addr", value="192.0.2.1")
    assert selects(Select(), obs, now=NOW)


def test_labels_are_matched_case_insensitively() -> None:
    select = Select.model_validate({"labels": {"anyOf": ["Emotet"]}})
    assert selects(select, indicator(labels=("emotet",)), now=NOW)
    assert not selects(select, indicator(labels=("qakbot",)), now=NOW)


def test_none_of_and_all_of() -> None:
    select = Select.model_validate({"labels": {"allOf": ["a", "b"], "noneOf": ["c"]}})
    assert selects(select, indicator(labels=("A", "b")), now=NOW)
    assert not selects(select, indicator(labels=("a",)), now=NOW)
    assert not selects(select, indicator(labels=("a", "b", "C")), now=NOW)


def test_min_score_excludes_unknown_scores() -> None:
    select = Select.model_validate({"minScore": 60})
    assert selects(select, indicator(score=60), now=NOW)
    assert not selects(select, indicator(score=59), now=NOW)
    assert not selects(select, indicator(), now=NOW)


def test_pattern_types_restrict_indicators_only() -> None:
    select = Select.model_validate({"patternTypes": ["yara"]})
    assert not selects(select, indicator(), now=NOW)
    assert selects(select, indicator(pattern_type="yara"), now=NOW)


def test_markings_allowed_treat_white_as_clear() -> None:
    select = Select.model_validate({"markings": ["TLP:CLEAR", "TLP:GREEN"]})
    assert selects(select, indicator(markings=("TLP:WHITE",)), now=NOW)
    assert selects(select, indicator(), now=NOW)
    assert not selects(select, indicator(markings=("TLP:AMBER",)), now=NOW)


def test_revoked_indicator_is_not_synced() -> None:
    assert lifecycle_reason(Select(), indicator(revoked=True), now=NOW) == "revoked"


def test_expired_indicator_is_not_synced() -> None:
    old = indicator(valid_until=datetime(2025, 1, 1, tzinfo=UTC))
    assert lifecycle_reason(Select(), old, now=NOW) == "expired"
    assert lifecycle_reason(Select(includeExpired=True), old, now=NOW) is None


def test_detection_false_is_not_synced() -> None:
    assert lifecycle_reason(Select(), indicator(detection=False), now=NOW) == "detection-disabled"
    assert lifecycle_reason(Select(), indicator(detection=None), now=NOW) is None


def test_tlp_red_is_refused_unless_allowed() -> None:
    red = indicator(markings=("TLP:RED",))
    assert lifecycle_reason(Select(), red, now=NOW) == "tlp-red"
    allowed = Select.model_validate({"allowRed": True})
    assert lifecycle_reason(allowed, red, now=NOW) is None


def test_created_window_within_duration() -> None:
    select = Select.model_validate({"created": {"within": "30d"}})
    assert selects(select, indicator(created=datetime(2026, 11, 20, tzinfo=UTC)), now=NOW)
    assert not selects(select, indicator(created=datetime(2026, 9, 1, tzinfo=UTC)), now=NOW)


def test_a_verdict_holds_until_valid_until_passes_or_a_within_window_leaves_the_object() -> None:
    hour = timedelta(hours=1)
    expiring = indicator(valid_until=NOW + 3 * hour, modified=NOW - hour)
    recent = Select.model_validate({"updated": {"within": "2h"}})
    assert next_change(Select(), expiring, now=NOW) == NOW + 3 * hour
    assert next_change(recent, expiring, now=NOW) == NOW + hour  # leaves the window first
    later = NOW + hour + timedelta(seconds=1)
    assert selects(recent, expiring, now=NOW) and not selects(recent, expiring, now=later)
    assert next_change(Select(include_expired=True), expiring, now=NOW) is None
    assert next_change(Select(), expiring, now=NOW + 4 * hour) is None  # expired for good
    window = Select.model_validate({"created": {"after": "2026-01-01T00:00:00Z"}})
    assert next_change(window, indicator(created=NOW), now=NOW) is None  # absolute bounds
