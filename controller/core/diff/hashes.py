"""Which desired blocklist files the blocklist half of an incremental pass may join alone.
Pure.

`diff_blocklist` treats keys apart as long as a desired file is in one entry at most and no
other entry holds one of its hashes: it then creates the file, or compares it with its entry.
Otherwise a key's plan depends on other keys and on the listing order (which entry holding a
hash comes first, which key took an entry over), and `PlanMemo` joins the half whole. `Hashes`
keeps, across passes, who holds and who wants each hash, and so which keys are not *clean*,
redoing only what the entries and files that moved touch.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import TypeVar

from controller.core.diff.blocklist import entry_hashes
from controller.core.diff.inventory import Inventory, Moves
from controller.core.model import ActualBlocklist, DesiredBlocklist, Key, TaniumId

M = TypeVar("M")


class Hashes:
    """Hash → the entries holding it, hash → the desired files with it, and the files that
    are not clean."""

    def __init__(self, entries: Inventory[ActualBlocklist]) -> None:
        self._entries = entries
        self._holders: dict[str, set[TaniumId]] = {}
        self._wanted: dict[str, set[Key]] = {}
        self.unclean: set[Key] = set()

    def follow(
        self,
        files: Mapping[Key, DesiredBlocklist],
        moves: Moves[ActualBlocklist],
        moved: list[Key],
        removed: list[Key],
        former: dict[Key, DesiredBlocklist],
    ) -> int:
        """Take this pass's moves (`files`: the desired files; `moved`, `removed`, `former`:
        the files that changed, left, and what they were); how many files are not clean."""
        wanted, holders = self._wanted, self._holders
        for key, before in former.items():
            for value in _file_hashes(before):
                _unlink(wanted, value, key)
        for key in moved:
            for value in _file_hashes(files[key]):
                wanted.setdefault(value, set()).add(key)
        for entry in moves.before:
            for value in entry_hashes(entry):
                _unlink(holders, value, entry.id)
        for entry in moves.after:
            for value in entry_hashes(entry):
                holders.setdefault(value, set()).add(entry.id)
        recheck = {*moved, *removed, *moves.keys}
        for entry in chain(moves.before, moves.after):
            for value in entry_hashes(entry):
                recheck.update(wanted.get(value, ()))
        for key in recheck:
            now = files.get(key)
            if now is None or self._clean(key, now):
                self.unclean.discard(key)
            else:
                self.unclean.add(key)
        return len(self.unclean)

    def _clean(self, key: Key, want: DesiredBlocklist) -> bool:
        """Whether `key`'s plan depends on its own entry alone: one entry at most, and no
        other entry holds one of its hashes."""
        group = self._entries.holding(key)
        if len(group) > 1:
            return False
        own = {entry.id for entry in group}
        for value in _file_hashes(want):
            held = self._holders.get(value)
            if held and not held.issubset(own):
                return False
        return True


def _file_hashes(want: DesiredBlocklist) -> list[str]:
    return [value for value in (want.md5, want.sha1, want.sha256) if value]


def _unlink(index: dict[str, set[M]], value: str, member: M) -> None:
    held = index.get(value)
    if held is not None:
        held.discard(member)
        if not held:
            del index[value]
