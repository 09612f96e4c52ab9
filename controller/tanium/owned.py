"""What the controller owns in Tanium now (`octi-tanium state list`): owned documents and this
installation's blocklist entries, each named one way (a blocklist entry by its strongest hash:
`controller.core.foreign.entry_name`)."""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.foreign import entry_name
from controller.core.model import ActualState
from controller.render.marker import installation_id, owned_blocklist_key, owned_intel_key


@dataclass(frozen=True)
class Owned:
    kind: str
    """`intel` or `blocklist`."""
    key: str
    tanium_id: int
    name: str
    intel_type: str = ""


def owned_inventory(actual: ActualState) -> list[Owned]:
    """Everything ours, intel then blocklist, each sorted by key."""
    intel = [
        Owned("intel", key, int(doc.id), doc.name, doc.intel_type)
        for doc in actual.intel
        if (key := owned_intel_key(doc)) is not None
    ]
    installation = installation_id(actual.source_name)
    entries = [
        Owned("blocklist", key, int(entry.id), entry_name(entry))
        for entry in actual.blocklist
        if (key := owned_blocklist_key(entry, installation)) is not None
    ]
    return sorted(intel, key=lambda o: o.key) + sorted(entries, key=lambda o: o.key)
