"""Deletes that are verified, never assumed: a 404 is "already gone" only once a read says so.

A 404 cannot tell a missing object from a missing route. Reported as done, a delete on a route
the server does not have would leave the object in place and be "done" again on every pass. So:
- intel: a 404 on `DELETE TR/intels/?id=` is checked with `GET TR/intels/{id}`; when the
  document is still there, the collection is asked in its other form (with or without the
  trailing slash), and that form is kept.
- blocklist: `DELETE REP/reputations/custom/{id}` has no public evidence; after it the entry is
  looked up again by hash, and when it is still there the by-hash route (`POST .../delete`, a
  list of hashes: the only one public clients have used) removes it — unless another entry
  shares one of its hashes (that one would go too). A delete that did not happen raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from controller.core.model import TaniumId
from controller.tanium.errors import NotFoundError, RejectedError
from controller.tanium.reads import REP, TaniumReads

log = logging.getLogger("controller.tanium")

GONE = frozenset({404})


def other_form(path: str) -> str:
    """`…/intels/` ↔ `…/intels`."""
    return path.rstrip("/") if path.endswith("/") else f"{path}/"


class TaniumDeletes(TaniumReads):
    """Verified deletes; mixed into `TaniumWrites`."""

    async def delete_intel(self, intel_id: TaniumId) -> bool:
        """Delete a document; False when it was already gone, which is success too."""
        for _ in range(2):
            reply = await self._t.request(
                "DELETE", self.intels_path, params={"id": intel_id}, ok_statuses=GONE
            )
            if reply.status != 404:
                return True
            try:
                await self.get_intel(intel_id)
            except NotFoundError:
                return False
            log.info("DELETE %s answered 404 but intel %d is there", self.intels_path, intel_id)
            self.intels_path = other_form(self.intels_path)
        raise RejectedError(
            "the document still exists after DELETE answered 404 with and without the trailing "
            "slash: the server's delete route is not the one the controller knows",
            method="DELETE",
            path=self.intels_path,
            object_name=f"intel {intel_id}",
        )

    async def blocklist_remove(self, entry_id: TaniumId, hashes: Sequence[str] = ()) -> bool:
        """Delete a custom-list entry; False when it was already gone. With `hashes` (the
        entry's), the delete is verified and falls back to the by-hash route."""
        path = f"{REP}/reputations/custom/{entry_id}"
        reply = await self._t.request("DELETE", path, ok_statuses=GONE)
        wanted = [h.lower() for h in hashes if h]
        if not wanted:
            return reply.status != 404
        holders = await self.search_blocklist(wanted[0])
        if not any(e.id == entry_id for e in holders):
            return reply.status != 404
        others = {e.id for h in wanted for e in await self.search_blocklist(h) if e.id != entry_id}
        if others:
            raise RejectedError(
                f"the entry is still there after DELETE (answered {reply.status}), and the "
                f"by-hash route would also remove entries {sorted(others)} sharing its hashes; "
                "delete it in the Reputation console",
                method="DELETE",
                path=path,
                object_name=f"blocklist entry {entry_id}",
            )
        log.info("DELETE %s did not remove the entry: deleting by hash", path)
        await self._t.request("POST", f"{REP}/reputations/custom/delete", json=wanted)
        if any(e.id == entry_id for e in await self.search_blocklist(wanted[0])):
            raise RejectedError(
                "the entry is still there after DELETE by id and by hash",
                method="POST",
                path=f"{REP}/reputations/custom/delete",
                object_name=f"blocklist entry {entry_id}",
            )
        return True
