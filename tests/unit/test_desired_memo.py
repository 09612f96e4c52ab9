"""The desired-state memo: after any sequence of passes it gives what `build_desired` gives
(same items in the same order, same skips, diagnostics, gone reasons, same plan), and it
rebuilds only the keys a change touched — the others keep their very instances."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.core.desired import DesiredState, build_desired
from controller.core.desired_memo import DesiredMemo
from controller.core.diff import make_plan
from controller.core.model import (
    ActualState,
    SourceObject,
    SourceSnapshot,
    TaniumId,
)
from controller.core.plan import to_json
from controller.policy.located import Located, PolicySet
from controller.policy.models import Exclusion, StaticIntel
from controller.reconcile import PassMemory, plan_from
from tests.test_scenarios import as_applied
from tests.unit.test_desired import HERE, NOW, ind, policies, policy, snap

LABELS = ("emotet", "qakbot", "Phishing")
MD5 = ("44d88612fea8a8f36de82e1278abb02f", "0cc175b9c0f1b6a831c399e269772661")
SHA256 = (
    "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
    "ca978112ca1bbdcafac231b20a715f7d5d1e1f07a1d3b5a6b8c1fa4a1f7a3b2e",
)


def exclusion(name: str, **spec: Any) -> Located:
    return Located(
        Exclusion.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "Exclusion",
                "metadata": {"name": name},
                "spec": {"reason": f"{name} own", **spec},
            }
        ),
        HERE,
    )


def static_hashes(*hashes: str) -> Located:
    return Located(
        StaticIntel.model_validate(
            {
                "apiVersion": "octi-tanium/v1",
                "kind": "StaticIntel",
                "metadata": {"name": "git-hashes"},
                "spec": {"type": "hashes", "hashes": list(hashes)},
            }
        ),
        HERE,
    )


def with_static(base: PolicySet, *static: Located) -> PolicySet:
    return PolicySet(
        intel_policies=base.intel_policies,
        static_intel=static,
        exclusions=base.exclusions,
        settings=base.settings,
    )


POLICY_SETS = (
    policies(policy()),
    policies(
        policy("all"),
        policy(
            "emotet",
            select={"labels": {"anyOf": ["emotet"]}, "includeRevoked": True},
            target={
                "intel": {"labels": ["from-emotet"], "urls": False, "platforms": ["windows"]},
                "quickScan": {"computerGroups": ["servers"]},
            },
            priority=300,
            drift="warn",
        ),
        exclusions=(
            exclusion("ours", values=["10.0.0.2"], hashes=[MD5[1]]),
            exclusion("theirs", labels=["qakbot"]),
        ),
    ),
    with_static(
        policies(
            policy("recent", select={"updated": {"within": "6h"}}),
            policy(
                "hashes",
                select={"includeExpired": True, "minScore": 40},
                target={"blocklist": {"stixHashPatterns": False}},
            ),
        ),
        static_hashes(MD5[0], SHA256[1]),
    ),
    policies(policy(), quotas={"maxIntel": 3}),
)

NO_STATE = ActualState(source_id=TaniumId(1), source_name="octi")


def obj(slot: int, kind: int, value: int, **kw: Any) -> SourceObject:
    """Few values on purpose: several objects make one document, files share hashes."""
    if kind == 0:
        return ind(slot, f"[ipv4-addr:value = '10.0.0.{value}']", **kw)
    if kind == 1:
        return ind(slot, f"[domain-name:value = 'host{value}.example']", **kw)
    if kind == 2:
        return ind(slot, f"[url:value = 'http://host{value}.example/x']", **kw)
    if kind == 3:
        return ind(slot, f"[file:hashes.MD5 = '{MD5[value % 2]}']", **kw)
    for field in ("revoked", "valid_until", "detection"):
        kw.pop(field, None)
    if kind == 5:  # the same document as the indicators of kind 0
        return SourceObject.model_validate(
            {
                "standard_id": f"ipv4-addr--{slot:08d}-0000-4000-8000-000000000000",
                "entity_type": "IPv4-Addr",
                "value": f"10.0.0.{value}",
                **kw,
            }
        )
    hashes = {"MD5": MD5[value % 2], "SHA-256": SHA256[value // 2 % 2]}
    if value == 3:
        del hashes["MD5"]
    return SourceObject.model_validate(
        {
            "standard_id": f"file--{slot:08d}-0000-4000-8000-000000000000",
            "entity_type": "StixFile",
            "hashes": hashes,
            **kw,
        }
    )


objects = st.builds(
    lambda slot, kind, value, labels, revoked, until, score, red, age, detection: obj(
        slot,
        kind,
        value,
        labels=tuple(labels),
        revoked=revoked,
        valid_until=None if until is None else NOW + timedelta(hours=until),
        score=score,
        markings=("TLP:RED",) if red else ("TLP:GREEN",),
        modified=NOW - timedelta(hours=age),
        detection=detection,
    ),
    slot=st.integers(0, 9),
    kind=st.integers(0, 5),
    value=st.integers(0, 3),
    labels=st.lists(st.sampled_from(LABELS), unique=True, max_size=2),
    revoked=st.booleans(),
    until=st.none() | st.integers(1, 30),
    score=st.none() | st.integers(0, 100),
    red=st.integers(0, 9).map(lambda n: n == 0),
    age=st.integers(0, 10),
    detection=st.sampled_from([None, True, True, False]),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("put"), objects),
        st.tuples(st.just("put"), objects),
        st.tuples(st.just("drop"), st.integers(0, 9)),
        st.tuples(st.just("drop"), st.integers(0, 9)),
        st.tuples(st.just("advance"), st.integers(1, 12)),
        st.tuples(st.just("policies"), st.integers(0, len(POLICY_SETS) - 1)),
        st.tuples(st.just("copies"), st.just(0)),
        st.tuples(st.just("terms"), st.booleans()),
    ),
    max_size=14,
)


def assert_same(
    memo: DesiredState, reference: DesiredState, before: DesiredState, policy_set: PolicySet
) -> None:
    """Every field equal, the items in the same order, and the same plan against an empty
    Tanium and against the one the previous pass left (creates, updates, deletes)."""
    for f in fields(DesiredState):
        assert getattr(memo, f.name) == getattr(reference, f.name), f.name
    assert list(memo.intel) == list(reference.intel)  # the plan lists items in this order
    assert list(memo.blocklist) == list(reference.blocklist)
    for actual in (NO_STATE, as_applied(before)):
        plans = [
            make_plan(state, actual, settings=policy_set.settings, now=NOW)
            for state in (memo, reference)
        ]
        assert plans[0] == plans[1]
        assert to_json(plans[0]) == to_json(plans[1])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.lists(objects, max_size=10), steps=steps)
def test_the_memo_gives_what_build_desired_gives_after_any_sequence_of_passes(
    first: list[SourceObject], steps: list[tuple[str, Any]]
) -> None:
    current = {o.standard_id: o for o in first}
    policy_set, now, terms = POLICY_SETS[1], NOW, None
    memo, before = DesiredMemo(), DesiredState()
    for step in [("start", 0), *steps]:
        action, arg = step
        if action == "put":
            current[arg.standard_id] = arg
        elif action == "drop":
            for key in [k for k in current if int(k.split("--")[1][:8]) == arg]:
                del current[key]
        elif action == "advance":
            now += timedelta(hours=arg)
        elif action == "policies":
            policy_set = POLICY_SETS[arg]
        elif action == "copies":  # a bundle source makes new, equal objects every pass
            current = {k: SourceObject.model_validate(o.model_dump()) for k, o in current.items()}
        elif action == "terms":
            terms = {"PortItem/remoteIP": "PortItem/RemoteIP"} if arg else None
        snapshot = SourceSnapshot(objects=tuple(current.values()))
        built = memo.build(policy_set, snapshot, now=now, terms=terms)
        reference = build_desired(policy_set, snapshot, now=now, terms=terms)
        assert_same(built, reference, before, policy_set)
        before = reference


def test_a_changed_object_rebuilds_its_keys_only_and_the_others_keep_their_instances() -> None:
    one = policies(policy())
    objs = [ind(n, f"[domain-name:value = 'host{n}.example']", score=50) for n in range(20)]
    files = [obj(30 + n, 4, n) for n in range(2)]  # two observables sharing an MD5
    memo = DesiredMemo()
    first = memo.build(one, snap(*objs, *files), now=NOW)
    assert memo.last.full and memo.last.why == "first build"
    objs[7] = ind(7, "[domain-name:value = 'host7.example']", score=90)
    second = memo.build(one, snap(*objs, *files), now=NOW)
    assert not memo.last.full
    assert (memo.last.recomputed, memo.last.intel_rebuilt, memo.last.files_rebuilt) == (1, 1, 0)
    changed = {key for key in first.intel if first.intel[key] is not second.intel[key]}
    assert [second.intel[key].sources for key in changed] == [(objs[7].standard_id,)]
    assert all(second.blocklist[k] is first.blocklist[k] for k in first.blocklist)
    assert second == build_desired(one, snap(*objs, *files), now=NOW)


def test_an_untouched_pass_recomputes_nothing_and_returns_the_same_items() -> None:
    one = policies(policy())
    objs = [ind(n, f"[ipv4-addr:value = '10.1.0.{n}']") for n in range(5)]
    memo = DesiredMemo()
    first = memo.build(one, snap(*objs), now=NOW)
    again = memo.build(one, snap(*objs), now=NOW + timedelta(minutes=5))
    assert (memo.last.full, memo.last.recomputed, memo.last.intel_rebuilt) == (False, 0, 0)
    assert all(again.intel[key] is doc for key, doc in first.intel.items())
    assert again.intel is not first.intel  # the caller's state is its own


def test_an_indicator_expiring_between_two_passes_is_recomputed_though_unchanged() -> None:
    one = policies(policy())
    expiring = ind(1, "[ipv4-addr:value = '10.1.0.1']", valid_until=NOW + timedelta(hours=1))
    memo = DesiredMemo()
    assert len(memo.build(one, snap(expiring), now=NOW).intel) == 1
    later = memo.build(one, snap(expiring), now=NOW + timedelta(hours=2))
    assert memo.last.recomputed == 1 and later.intel == {}
    assert [s.reason for s in later.skipped] == ["expired"]


def test_what_the_memo_cannot_follow_is_a_full_build_and_says_why() -> None:
    memo = DesiredMemo()
    objs = snap(ind(1, "[ipv4-addr:value = '10.1.0.1']"))
    memo.build(policies(policy()), objs, now=NOW)
    memo.build(policies(policy("other")), objs, now=NOW)
    assert memo.last.why == "policies changed"
    memo.build(policies(policy("other")), objs, now=NOW, terms={"a": "b"})
    assert memo.last.why == "terms changed"
    memo.build(policies(policy("other")), objs, now=NOW - timedelta(seconds=1), terms={"a": "b"})
    assert memo.last.why == "the clock went back"
    memo.build(policies(policy(), quotas={"maxIntel": 1}), objs, now=NOW)
    assert memo.last.why == "quotas rank all items"
    twice = SourceSnapshot(objects=(*objs.objects, *objs.objects))
    memo.build(policies(policy()), twice, now=NOW)
    assert memo.last.why == "two objects share an id"


def test_plan_from_with_a_memory_plans_what_it_plans_without_one() -> None:
    one = policies(policy())
    objs = [ind(n, f"[ipv4-addr:value = '10.1.0.{n}']", score=n) for n in range(6)]
    memory = PassMemory()
    memo = memory.desired
    tanium = as_applied(build_desired(one, snap(*objs[:4]), now=NOW))
    for changed in (objs, [*objs[1:], ind(0, "[ipv4-addr:value = '10.1.0.0']", score=99)]):
        plans = [
            plan_from(one, snap(*changed), tanium, now=NOW, source="bundle", memory=use)[1]
            for use in (memory, None)
        ]
        assert to_json(plans[0]) == to_json(plans[1])
    assert memory.plan.stats.mode == "incremental"
    assert memo.last.text() == (
        "incremental: 1 of 6 objects evaluated, 1 intel documents and 0 blocklist files rebuilt"
    )


def test_documents_stay_in_build_desired_order_as_objects_come_and_go() -> None:
    one = policies(policy())
    objs = {n: ind(n, f"[ipv4-addr:value = '10.1.0.{n}']") for n in range(1, 6)}
    memo = DesiredMemo()
    for change in ({}, {2: None}, {0: "10.1.0.9", 7: "10.1.0.7"}, {4: None, 3: "10.1.0.1"}):
        for n, value in change.items():
            if value is None:
                del objs[n]
            else:
                objs[n] = ind(n, f"[ipv4-addr:value = '{value}']")
        built = memo.build(one, snap(*objs.values()), now=NOW)
        reference = build_desired(one, snap(*objs.values()), now=NOW)
        assert list(built.intel) == list(reference.intel)
        assert built == reference


def test_a_build_that_fails_half_way_leaves_a_memo_that_starts_again_from_scratch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = policies(policy())
    objs = [ind(n, f"[ipv4-addr:value = '10.1.0.{n}']") for n in range(3)]
    memo = DesiredMemo()
    memo.build(one, snap(*objs), now=NOW)
    objs[1] = ind(1, "[ipv4-addr:value = '10.1.0.9']")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise MemoryError

    with monkeypatch.context() as patch:
        patch.setattr("controller.core.desired_memo.finish_intel", broken)
        with pytest.raises(MemoryError):
            memo.build(one, snap(*objs), now=NOW)
    assert memo.build(one, snap(*objs), now=NOW) == build_desired(one, snap(*objs), now=NOW)
    assert memo.last.full and memo.last.why == "the last build failed"
