"""The pure pivot: which references to add, re-attach or delete — and never anyone else's."""

from __future__ import annotations

from controller.core.desired import DesiredState, build_desired
from controller.core.model import Key, TaniumId
from controller.core.pivot import PivotSettings, PresentReference, is_ours, pivot_items
from tests.unit.test_desired import NOW, ind, policies, policy, snap

SETTINGS = PivotSettings("https://tanium.example", "Tanium", "abcd1234")
URL = "https://tanium.example/#/threatresponse/intel/7"


def desired_one() -> tuple[DesiredState, Key]:
    state = build_desired(
        policies(policy("p", target={"intel": {}})),
        snap(
            ind(1, "[domain-name:value = 'a.example']"), ind(2, "[domain-name:value = 'a.example']")
        ),
        now=NOW,
    )
    (key,) = state.intel
    return state, key


def ref(
    url: str, objects: tuple[str, ...], description: str = "x [octi-tanium src=abcd1234]"
) -> PresentReference:
    return PresentReference("ref-1", url, "Tanium", "7", description, objects)


def test_a_new_document_gets_one_reference_for_all_its_origins() -> None:
    state, key = desired_one()
    (item,) = pivot_items(state, {key: TaniumId(7)}, {}, [], SETTINGS)
    assert item.desired is not None
    assert (item.action, item.kind, item.desired["url"], item.desired["external_id"]) == (
        "create", "pivot", URL, "7"
    )  # fmt: skip
    assert len(item.desired["attach"]) == 2 and item.origins is not None
    assert item.origins.policies == ("p",)


def test_in_sync_is_nothing_and_a_missing_object_is_attached_an_extra_one_detached() -> None:
    state, key = desired_one()
    objects = state.intel[key].sources
    (created,) = pivot_items(state, {key: TaniumId(7)}, {}, [], SETTINGS)
    assert created.desired is not None
    description = created.desired["description"]
    synced = ref(URL, objects, description)
    assert pivot_items(state, {key: TaniumId(7)}, {}, [synced], SETTINGS) == []
    moved = ref(URL, (objects[0], "indicator--other"), description)
    (item,) = pivot_items(state, {key: TaniumId(7)}, {}, [moved], SETTINGS)
    assert item.action == "update"
    assert item.desired is not None
    assert (item.desired["attach"], item.desired["detach"]) == ([objects[1]], ["indicator--other"])


def test_a_reference_to_a_gone_document_is_deleted_but_never_anyone_elses() -> None:
    state, _ = desired_one()
    mine = ref("https://tanium.example/#/threatresponse/intel/3", ("indicator--x",))
    analysts = ref("https://tanium.example/#/threatresponse/intel/4", ("indicator--x",), "mine")
    other_install = ref("https://t/5", ("indicator--x",), "x [octi-tanium src=ffff0000]")
    assert is_ours(mine, SETTINGS) and not is_ours(analysts, SETTINGS)
    assert not is_ours(other_install, SETTINGS)
    items = pivot_items(state, {}, {}, [mine, analysts, other_install], SETTINGS)
    assert [(i.action, i.before) for i in items] == [
        ("delete", {"id": "ref-1", "objects": ["indicator--x"]})
    ]


def test_while_a_guard_fails_the_pivot_neither_deletes_nor_detaches() -> None:
    from controller.writeback.pivot import without_removals

    state, key = desired_one()
    objects = state.intel[key].sources
    gone = ref("https://tanium.example/#/threatresponse/intel/3", ("indicator--x",))
    moved = ref(URL, (objects[0], "indicator--other"))
    items = pivot_items(state, {key: TaniumId(7)}, {}, [gone, moved], SETTINGS)
    assert sorted(i.action for i in items) == ["delete", "update"]
    (kept,) = without_removals(items)
    assert kept.desired is not None
    assert (kept.action, kept.desired["attach"], kept.desired["detach"]) == (
        "update",
        [objects[1]],
        [],
    )
