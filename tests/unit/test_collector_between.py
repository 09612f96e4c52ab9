"""`Between`: what a pass of `run` keeps is frozen out of the collector's walks, and garbage
frozen in a cycle is still freed within `every` passes."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from controller.collector import Between


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # the other tests' collector as they expect it


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_what_a_pass_keeps_is_never_walked_again() -> None:
    kept = [Node() for _ in range(100)]
    Between().settle()
    assert gc.get_freeze_count() > 0
    walked = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
    assert not any(id(node) in walked for node in kept)


def test_garbage_frozen_in_a_cycle_is_freed_within_every_passes() -> None:
    between = Between(every=3)
    node = Node()
    gone = weakref.ref(node)
    between.settle()  # the node is kept, then frozen
    del node  # garbage now, but frozen in its cycle
    between.settle()
    assert gone() is not None  # not walked: frozen
    between.settle()  # the third: everything unfrozen and collected once
    assert gone() is None
    assert gc.get_freeze_count() > 0  # and what survives frozen again


def test_a_passes_young_cyclic_garbage_is_collected_before_freezing() -> None:
    node = Node()
    gone = weakref.ref(node)
    del node
    Between(every=100).settle()
    assert gone() is None
