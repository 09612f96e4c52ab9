"""`evaluate` with several policies: each policy's own lifecycle rules, the first reason when
none lets an object through, the blocklist only through policies that have one, and label
rules of one kind alone. (The per-object loop is written flat; these pin what it decides.)"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from controller.core.exclusions import ExclusionIndex
from controller.core.markings import normalize_marking
from controller.core.model import SourceObject
from controller.core.outcome import Outcome, evaluate, ordered_policies
from controller.core.reasons import Reason
from controller.core.selection import selects, tlp_red
from controller.policy.located import Located
from controller.policy.models import Select
from tests.unit.test_desired import NOW, ind, policies, policy

SHA256 = "ab" * 32
NO_EXCLUSIONS = ExclusionIndex.build(())


def _outcome(obj: SourceObject, *located: Located) -> Outcome | None:
    ordered = ordered_policies(policies(*located))
    return evaluate(obj, ordered, NO_EXCLUSIONS, now=NOW)


def test_the_first_policys_reason_is_given_when_none_lets_the_object_through() -> None:
    red_and_revoked = ind(1, "[domain-name:value = 'a.example']", markings=("TLP:RED",))
    red_and_revoked = red_and_revoked.model_copy(update={"revoked": True})
    lets_red = policy(
        "a-lets-red",
        priority=2,
        select={"markings": ["TLP:RED"], "allowRed": True},
    )
    outcome = _outcome(red_and_revoked, lets_red, policy("b-plain", priority=1))
    assert outcome is not None and outcome.skipped is not None
    assert outcome.skipped.reason == Reason.REVOKED  # the first policy's, not TLP:RED
    outcome = _outcome(red_and_revoked, lets_red, policy("b-plain", priority=3))
    assert outcome is not None and outcome.skipped is not None
    assert outcome.skipped.reason == Reason.TLP_RED


def test_a_policy_that_lets_the_object_through_is_the_only_one_it_flows_through() -> None:
    red = ind(1, "[domain-name:value = 'a.example']", markings=("TLP:RED",))
    lets_red = policy("a-lets-red", select={"markings": ["TLP:RED"], "allowRed": True})
    outcome = _outcome(red, lets_red, policy("b-plain"))
    assert outcome is not None and outcome.skipped is None
    assert [located.document.metadata.name for _, located in outcome.intel] == ["a-lets-red"]


def test_hash_patterns_go_to_the_blocklist_only_through_policies_that_want_them() -> None:
    pattern = f"[file:hashes.'SHA-256' = '{SHA256}']"
    both = _outcome(ind(1, pattern), policy("both"))
    assert both is not None and [f.hashes for f, _ in both.files] == [{"sha256": SHA256}]
    intel_only = policy("intel-only", target={"intel": {}})
    no_patterns = policy(
        "no-patterns", target={"intel": {}, "blocklist": {"stixHashPatterns": False}}
    )
    for located in (intel_only, no_patterns):
        outcome = _outcome(ind(1, pattern), located)
        assert outcome is not None and not outcome.files and len(outcome.intel) == 1
    mixed = _outcome(ind(1, pattern), intel_only, policy("both"))
    assert mixed is not None
    assert [located.document.metadata.name for _, located in mixed.files] == ["both"]


def test_blocklist_only_policy_skips_a_value_with_no_target() -> None:
    outcome = _outcome(ind(1, "[ipv4-addr:value = '192.0.2.1']"), policy(target={"blocklist": {}}))
    assert outcome is not None and outcome.skipped is not None
    assert outcome.skipped.reason == Reason.NO_TARGET


def test_each_label_rule_alone() -> None:
    def takes(rule: dict[str, list[str]], labels: tuple[str, ...]) -> bool:
        select = Select.model_validate({"labels": rule})
        return selects(select, ind(1, "[ipv4-addr:value = '192.0.2.1']", labels=labels), now=NOW)

    assert not takes({"noneOf": ["c"]}, ("C",))
    assert takes({"noneOf": ["c"]}, ("d",))
    assert takes({"anyOf": ["c", "x"]}, ("C",))
    assert not takes({"anyOf": ["c"]}, ())
    assert takes({"allOf": ["c", "d"]}, ("d", "c "))
    assert not takes({"allOf": ["c", "d"]}, ("c",))
    assert takes({}, ())


MARKINGS = st.lists(
    st.sampled_from(["TLP:RED", "tlp:red ", "TLP:GREEN", "TLP:WHITE", "UNKNOWN:x", "PAP:RED", ""]),
    max_size=3,
)


@given(MARKINGS)
def test_tlp_red_of_any_marking_set(markings: list[str]) -> None:
    obj = SourceObject(standard_id="indicator--1", entity_type="Indicator", markings=markings)
    expected = any(normalize_marking(m) == "TLP:RED" for m in markings)
    assert tlp_red(obj) is expected
    assert tlp_red(obj.model_copy(update={"markings": list(markings)})) is expected
