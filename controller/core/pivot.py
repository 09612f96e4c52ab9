"""The pivot, desired state on the OpenCTI side: every origin object of a document that exists
in Tanium carries one external reference to it. Pure: from (desired, the owned documents and
entries in Tanium, the references octi-tanium made that OpenCTI holds) to `pivot` plan items.

A reference is identified by its url (OpenCTI's standard id of a reference with a url is the
uuidv5 of the url, so re-adding it is an upsert). It is ours only when its `source_name` is
the configured one and its description ends with this installation's marker; nothing else is
ever touched. One item per reference: `create` (add it and attach it to its objects),
`update` (attach to / detach from objects), `delete` (its document left Tanium or the desired
state: deleting the reference detaches it everywhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from controller.core.desired import DesiredState
from controller.core.model import DesiredBlocklist, DesiredIntel, Key, TaniumId
from controller.core.plan import Change, Origins, PlanItem
from controller.core.reasons import Reason


@dataclass(frozen=True)
class PivotSettings:
    console_url: str
    """The Tanium console root, e.g. `https://tanium.example.com` (no trailing slash)."""
    source_name: str = "Tanium"
    installation: str = ""

    @property
    def marker(self) -> str:
        return f"[octi-tanium src={self.installation}]"


@dataclass(frozen=True)
class PresentReference:
    """A reference OpenCTI holds, with the standard ids of the objects it is attached to."""

    id: str
    url: str
    source_name: str
    external_id: str
    description: str
    objects: tuple[str, ...] = ()


def is_ours(ref: PresentReference, settings: PivotSettings) -> bool:
    return ref.source_name == settings.source_name and ref.description.endswith(settings.marker)


def intel_url(settings: PivotSettings, intel_id: int) -> str:
    return f"{settings.console_url}/#/threatresponse/intel/{intel_id}"


def blocklist_url(settings: PivotSettings, entry: DesiredBlocklist) -> str:
    """Reputation has no page per entry: the custom list, searched for the entry's hash."""
    return f"{settings.console_url}/#/reputation/custom?search={entry.uploaded_hash}"


def _wanted(
    desired: DesiredState,
    intel_ids: Mapping[Key, TaniumId],
    blocklist_ids: Mapping[Key, TaniumId],
    settings: PivotSettings,
) -> dict[str, tuple[dict[str, str], DesiredIntel | DesiredBlocklist]]:
    """url → (the reference's fields, the desired item it points to)."""
    out: dict[str, tuple[dict[str, str], DesiredIntel | DesiredBlocklist]] = {}
    for key, doc in desired.intel.items():
        intel_id = intel_ids.get(key)
        if intel_id is None or not _objects(doc):
            continue
        fields = {
            "source_name": settings.source_name,
            "external_id": str(intel_id),
            "url": intel_url(settings, intel_id),
            "description": f"Intel document {doc.name!r} in Tanium Threat Response, "
            f"managed by octi-tanium {settings.marker}",
        }
        out[fields["url"]] = (fields, doc)
    for key, entry in desired.blocklist.items():
        entry_id = blocklist_ids.get(key)
        if entry_id is None or not _objects(entry):
            continue
        fields = {
            "source_name": settings.source_name,
            "external_id": f"reputation-{entry_id}",
            "url": blocklist_url(settings, entry),
            "description": f"Blocklist entry {entry.uploaded_hash} in Tanium Reputation, "
            f"managed by octi-tanium {settings.marker}",
        }
        out[fields["url"]] = (fields, entry)
    return out


def _objects(item: DesiredIntel | DesiredBlocklist) -> tuple[str, ...]:
    return tuple(s for s in item.sources if not s.startswith("static:"))


def pivot_items(
    desired: DesiredState,
    intel_ids: Mapping[Key, TaniumId],
    blocklist_ids: Mapping[Key, TaniumId],
    present: Iterable[PresentReference],
    settings: PivotSettings,
) -> list[PlanItem]:
    """The `pivot` items that make OpenCTI's references match the documents in Tanium."""
    wanted = _wanted(desired, intel_ids, blocklist_ids, settings)
    ours = {r.url: r for r in present if is_ours(r, settings)}
    items: list[PlanItem] = []
    for url, (fields, item) in sorted(wanted.items()):
        objects = _objects(item)
        have = ours.get(url)
        origins = Origins(objects=objects, policies=item.policies)
        name = f"Tanium {fields['external_id']} ({item.name})"
        if have is None:
            items.append(
                PlanItem(
                    action="create",
                    kind="pivot",
                    key=f"pivot:{url}",
                    reason=Reason.NEW,
                    name=name,
                    desired={**fields, "attach": list(objects), "detach": []},
                    origins=origins,
                )
            )
            continue
        attach = sorted(set(objects) - set(have.objects))
        detach = sorted(set(have.objects) - set(objects))
        stale_text = have.description != fields["description"]
        if not attach and not detach and not stale_text:
            continue
        items.append(
            PlanItem(
                action="update",
                kind="pivot",
                key=f"pivot:{url}",
                reason=Reason.CHANGED,
                name=name,
                changes=(Change(field="objects", before=list(have.objects), after=list(objects)),),
                desired={**fields, "attach": attach, "detach": detach},
                before={"id": have.id},
                origins=origins,
            )
        )
    for url, have in sorted(ours.items()):
        if url not in wanted:
            items.append(
                PlanItem(
                    action="delete",
                    kind="pivot",
                    key=f"pivot:{url}",
                    reason=Reason.OUT_OF_SCOPE,
                    name=f"Tanium {have.external_id}",
                    before={"id": have.id, "objects": list(have.objects)},
                )
            )
    return items
