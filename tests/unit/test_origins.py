"""Origins: every desired item and plan item names the OpenCTI objects it came from and the
policies that selected it (sorted, unique); deletes have none (nothing desired any more)."""

from __future__ import annotations

from controller.core.desired import build_desired
from controller.core.diff import make_plan
from controller.core.model import ActualState
from controller.core.plan import Origins
from controller.policy.models import SettingsSpec
from tests.unit.test_desired import NOW, ind, policies, policy, snap


def test_one_domain_from_three_indicators_and_two_policies_names_them_all() -> None:
    a = policy("phishing", target={"intel": {}})
    b = policy("apt-domains", target={"intel": {}})
    state = build_desired(
        policies(a, b),
        snap(
            ind(3, "[domain-name:value = 'circl.lu']"),
            ind(1, "[domain-name:value = 'CIRCL.lu.']"),
            ind(2, "[domain-name:value = 'circl.lu']"),
        ),
        now=NOW,
    )
    (doc,) = state.intel.values()
    assert doc.policies == ("apt-domains", "phishing")
    assert doc.sources == tuple(sorted(doc.sources)) and len(doc.sources) == 3
    plan = make_plan(state, ActualState(source_id=None, source_name="s"), settings=SettingsSpec())
    (item,) = [i for i in plan.items if i.kind == "intel"]
    assert item.origins == Origins(objects=doc.sources, policies=("apt-domains", "phishing"))
    assert "policies" not in (item.desired or {}) and "sources" not in (item.desired or {})


def test_a_blocklist_entry_merged_from_two_objects_names_both() -> None:
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    state = build_desired(
        policies(policy("files", target={"blocklist": {"stixHashPatterns": True}})),
        snap(ind(1, f"[file:hashes.MD5 = '{md5}']"), ind(2, f"[file:hashes.MD5 = '{md5}']")),
        now=NOW,
    )
    (entry,) = state.blocklist.values()
    assert entry.policies == ("files",) and len(entry.sources) == 2
