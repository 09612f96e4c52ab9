"""Tanium's objects of one kind across the passes of one process: which moved, and who holds
each key. Pure.

A warm pass reads the inventory afresh: new instances, equal to the last pass's when nothing
moved. `Inventory.take` compares each with the one of the same id (in C: `map(ne, …)`, one
dataclass comparison per object, no Python step), and redoes the ownership check (a marker
parse, a uuid5 for blocklist entries) and the fingerprint line only for those that moved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress, count
from operator import attrgetter, is_not, ne
from typing import Generic

from controller.core.diff.common import T
from controller.core.model import Key, TaniumId

_ID = attrgetter("id")


@dataclass(slots=True)
class Moves(Generic[T]):
    """What changed in an inventory since the last pass."""

    keys: set[Key] = field(default_factory=set)
    """Keys held by an object that moved (before or after)."""
    before: list[T] = field(default_factory=list)
    """The former versions of the objects that changed or left."""
    after: list[T] = field(default_factory=list)
    """The objects that changed or arrived."""
    unowned: bool = False
    """Whether an unowned object moved (arrived, left, changed, or changed owner)."""


class Inventory(Generic[T]):
    """The objects of the last pass by id, the key each is owned under (None: not ours), the
    owned ones grouped by key, and their fingerprint lines.

    `key_of` must be a function of the object alone (`owned_intel_key`, `owned_blocklist_key`
    for one installation): an object equal to the last pass's keeps its key."""

    def __init__(self, key_of: Callable[[T], Key | None], line_of: Callable[[T], str]) -> None:
        self._key_of: Callable[[T], Key | None] = key_of
        self._line_of: Callable[[T], str] = line_of
        self._clear()

    def _clear(self) -> None:
        self.objects: Sequence[T] = ()
        """This pass's objects, in listing order."""
        self.key: dict[TaniumId, Key | None] = {}
        self.held: dict[Key, T] = {}
        """One object of each owned key (a dict per key would cost ~25 MB at 100,000)."""
        self.copies: dict[Key, list[T]] = {}
        """The others, for the keys held by several."""
        self.unowned: dict[TaniumId, T] = {}
        self.lines: dict[TaniumId, str] = {}
        self.ids: list[TaniumId] = []
        """Their ids."""
        self.sorted_ids: list[TaniumId] = []
        self.owned = 0
        """Owned objects, surplus copies included."""
        self.static = 0
        """Owned keys of intel kept in Git (`static:`)."""

    def take(self, objects: Sequence[T]) -> Moves[T] | None:
        """This pass's objects; None (and nothing kept) when two share an id: an inventory
        this one cannot follow by id."""
        ids: list[TaniumId] = list(map(_ID, objects))
        moves: Moves[T] = Moves()
        if ids == self.ids:  # listed as last time: compare in place, no lookup by id
            last = self.objects
            for at in compress(range(len(ids)), map(is_not, objects, last)):  # pages reused
                if objects[at] == last[at]:
                    continue
                self._drop(last[at], moves)
                self._add(objects[at], moves)
            self.objects = objects
            return moves
        prev = dict(zip(self.ids, self.objects, strict=True))
        now = dict(zip(ids, objects, strict=True))
        if len(now) != len(ids):
            self._clear()
            return None
        arrived = 0
        for obj in compress(objects, map(ne, objects, map(prev.get, ids))):
            old = prev.get(obj.id)
            if old is None:
                arrived += 1
            else:
                self._drop(old, moves)
            self._add(obj, moves)
        if len(prev) + arrived != len(now):  # some left
            for gone in prev.keys() - now.keys():
                self._drop(prev[gone], moves)
                del self.key[gone], self.lines[gone]
        self.ids, self.objects, self.sorted_ids = ids, objects, sorted(ids)
        return moves

    def first_seen(self, keys: set[Key]) -> list[Key]:
        """`keys` in the order their first object appears in this pass's listing (the order
        the diff meets owned keys in)."""
        if len(keys) < 2:
            return list(keys)
        at = dict(zip(self.ids, count()))
        return sorted(keys, key=lambda k: min(at[o.id] for o in self.holding(k)))

    def holding(self, key: Key) -> list[T]:
        """The objects owned under `key`."""
        first = self.held.get(key)
        if first is None:
            return []
        return [first, *self.copies.get(key, ())]

    def _drop(self, old: T, moves: Moves[T]) -> None:
        moves.before.append(old)
        key = self.key[old.id]
        if key is None:
            del self.unowned[old.id]
            moves.unowned = True
            return
        moves.keys.add(key)
        more: list[T] = self.copies.pop(key, [])
        if self.held[key].id != old.id:
            more = [o for o in more if o.id != old.id]
        elif more:
            self.held[key] = more.pop()
        else:
            del self.held[key]
            self.static -= key.startswith("static:")
        if more:
            self.copies[key] = more
        self.owned -= 1

    def _add(self, obj: T, moves: Moves[T]) -> None:
        moves.after.append(obj)
        key = self._key_of(obj)
        self.key[obj.id] = key
        self.lines[obj.id] = self._line_of(obj)
        if key is None:
            self.unowned[obj.id] = obj
            moves.unowned = True
            return
        moves.keys.add(key)
        if key in self.held:
            self.copies.setdefault(key, []).append(obj)
        else:
            self.held[key] = obj
            self.static += key.startswith("static:")
        self.owned += 1
