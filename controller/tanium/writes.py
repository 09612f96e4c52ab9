"""Writes: every change the apply executor makes in Tanium.

Idempotent calls (PUT, DELETE, label attach/detach, blocklist upload) are retried blindly by the
transport. Creates (source, intel, label) and `deploy` are retried only after a look-up proved
the first attempt did not land, so a retry never duplicates (see `transport`). Deletes treat
404 as "already gone".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, cast

from controller.core.model import ActualIntel, ActualLabel, DesiredBlocklist, DesiredIntel, TaniumId
from controller.tanium.content import (
    check_entry,
    check_same_document,
    content_intrinsic_id,
    entry_json,
    upload_for,
)
from controller.tanium.deletes import GONE, TaniumDeletes
from controller.tanium.errors import (
    ConflictError,
    ProtocolError,
    RejectedError,
    TaniumError,
    TransientError,
)
from controller.tanium.mapping import DeployStatus, intel_one, label_one, source_one
from controller.tanium.pagination import gather_all
from controller.tanium.reads import REP, TR

log = logging.getLogger("controller.tanium")


class TaniumWrites(TaniumDeletes):
    """Write operations; mixed into `TaniumClient`, which sets these attributes."""

    blocklist_chunk: int
    deploy_wait: float
    """Seconds `deploy()` waits, in total, for a running deployment to finish."""

    # ------------------------------------------------------------------ sources

    async def ensure_source(self, name: str, description: str) -> TaniumId:
        """The id of the source named `name`, created (type `api-client`) only when absent."""
        found = await self.find_source(name)
        if found is not None:
            return found
        path = f"{TR}/sources"
        try:
            reply = await self._t.request(
                "POST",
                path,
                json={"type": "api-client", "name": name, "description": description},
                object_name=name,
                idempotent=False,
                landed=lambda: self.find_source(name),
            )
        except ConflictError:  # created meanwhile by someone else
            found = await self.find_source(name)
            if found is None:
                raise
            return found
        if reply.recovered:
            return cast(TaniumId, reply.data)
        return source_one(reply.data, where=path).id

    # ------------------------------------------------------------------ intel documents

    async def create_intel(self, source_id: TaniumId, doc: DesiredIntel) -> ActualIntel:
        """Upload a new document into the source (see `content` for the per-type encoding)."""
        path = f"{TR}/sources/{source_id}/intels"
        upload = upload_for(doc, method="POST", path=path)
        reply = await self._t.request(
            "POST",
            path,
            content=upload.body,
            headers=upload.headers,
            object_name=doc.name,
            idempotent=False,
            landed=lambda: self._landed_intel(source_id, doc),
        )
        if reply.recovered:
            return cast(ActualIntel, reply.data)
        return intel_one(reply.data, where=path)

    async def update_intel(
        self, intel_id: TaniumId, doc: DesiredIntel, intrinsic_id: str | None
    ) -> ActualIntel:
        """Replace a document's content (PUT; `revisionId` increments).

        `intrinsic_id` is the document's current one: a YARA update is named after it, and an
        OpenIOC/STIX update declaring another root id is refused locally (Tanium would create a
        new document instead, §8.4). Returns the document as Tanium now holds it; should Tanium
        answer with another document all the same, raises `ProtocolError` (the update failed).
        """
        path = f"{TR}/intels/{intel_id}"
        check_same_document(doc, intrinsic_id, method="PUT", path=path)
        upload = upload_for(doc, method="PUT", path=path, intrinsic_id=intrinsic_id)
        reply = await self._t.request(
            "PUT", path, content=upload.body, headers=upload.headers, object_name=doc.name
        )
        intel = intel_one(reply.data, where=path)
        if intel.id != intel_id:
            raise ProtocolError(
                f"Tanium made a new document {intel.id} instead of updating {intel_id}",
                method="PUT",
                path=path,
                object_name=doc.name,
            )
        return intel

    async def _landed_intel(self, source_id: TaniumId, doc: DesiredIntel) -> ActualIntel | None:
        """After an uncertain create: the document if it is in the source now (same intrinsic
        id, or same name and content digest)."""
        intrinsic = content_intrinsic_id(doc)
        for found in await self.find_intel_by_name(source_id, doc.name):
            if intrinsic is not None and found.intrinsic_id == intrinsic:
                return found
            if found.md5 and found.md5 == doc.md5.lower():
                return found
        return None

    # ------------------------------------------------------------------ labels

    async def create_label(self, name: str, description: str) -> ActualLabel:
        """Create a label; when the name is taken (case-insensitively) return the existing one."""
        path = f"{TR}/labels"
        try:
            reply = await self._t.request(
                "POST",
                path,
                json={"name": name, "description": description},
                object_name=name,
                idempotent=False,
                landed=lambda: self.find_label(name),
            )
        except (RejectedError, ConflictError):
            existing = await self.find_label(name)
            if existing is None:
                raise
            return existing
        if reply.recovered:
            return cast(ActualLabel, reply.data)
        return label_one(reply.data, where=path)

    async def attach_label(self, intel_id: TaniumId, label_id: TaniumId) -> None:
        """Attach (idempotent PUT). An unknown label id may answer 500 (XSOAR's observation)."""
        await self._t.request("PUT", f"{TR}/intels/{intel_id}/labels", json={"id": label_id})

    label_batches: bool | None = None
    """Whether PUT …/labels takes several labels in one call: None until the first try
    (Tanium's documentation shows one object per call; an array that is refused is never
    tried again by this client)."""
    _label_probe: asyncio.Lock | None = None

    async def attach_labels(self, intel_id: TaniumId, label_ids: Sequence[TaniumId]) -> None:
        """Attach several labels: one call when the server takes an array, else one each.
        Until the first array is answered, one document at a time tries it (the others wait
        for the answer instead of each sending an array the server may refuse)."""
        if len(label_ids) > 1 and self.label_batches is None:
            if self._label_probe is None:
                self._label_probe = asyncio.Lock()
            async with self._label_probe:
                if self.label_batches is None:
                    await self._attach_array(intel_id, label_ids)
                    if self.label_batches:
                        return
        if len(label_ids) > 1 and self.label_batches:
            await self._attach_array(intel_id, label_ids)
            if self.label_batches:
                return
        for label_id in label_ids:
            await self.attach_label(intel_id, label_id)

    async def _attach_array(self, intel_id: TaniumId, label_ids: Sequence[TaniumId]) -> None:
        """One PUT with every label; records whether the server took the array."""
        try:
            await self._t.request(
                "PUT", f"{TR}/intels/{intel_id}/labels", json=[{"id": i} for i in label_ids]
            )
        except RejectedError:
            self.label_batches = False  # one object per call, as documented
        else:
            self.label_batches = True

    async def detach_label(self, intel_id: TaniumId, label_id: TaniumId) -> None:
        """Detach; 404 (document or attachment gone) means it is not attached: success."""
        await self._t.request(
            "DELETE", f"{TR}/intels/{intel_id}/labels/{label_id}", ok_statuses=GONE
        )

    # ------------------------------------------------------------------ deploy and scans

    async def deploy(self) -> int:
        """Deploy the Intel DB once; returns the task id (0 when the reply was lost).

        A 400 (the call has no body, so it refuses the server's state, not our input: issue
        #3593 shows a bare "Bad Request" while another deploy runs; the wording is not relied
        on) waits (backoff, up to `deploy_wait` seconds in total) and
        deploys again. After a lost reply, `intel/status` is compared with its value before the
        call: if it moved, the deploy landed and completed. Otherwise the deploy is sent again;
        a "deploy in progress" answer then means the lost one is running (one writer at a time:
        the controller's lock), so it is not repeated.
        """
        path = f"{TR}/intel/deploy"
        before = await self.deploy_status()
        started = self._t.clock()
        lost = attempt = 0
        while True:
            attempt += 1
            failure: TaniumError
            try:
                reply = await self._t.request("POST", path, idempotent=False)
                return _task_id(reply.data, path)
            except TransientError as exc:
                if not exc.uncertain:
                    raise
                if _moved(before, await self.deploy_status()):
                    log.info("POST %s: the reply was lost but the deploy landed", path)
                    return 0
                lost += 1
                if lost >= self._t.retry.max_attempts:
                    raise
                failure = exc
            except RejectedError as exc:
                if exc.status != 400:
                    raise
                if lost:
                    log.info("POST %s: the deploy whose reply was lost is running", path)
                    return 0
                failure = exc
            delay = self._t.retry.backoff(min(attempt, 8), self._t.rng)
            delay = max(delay, self._t.retry.base_delay)
            if self._t.clock() - started + delay > self.deploy_wait:
                raise failure
            log.info("%s; deploying again in %.1fs", failure, delay)
            await self._t.sleep(delay)

    async def scan(self, group_id: TaniumId, intel_id: TaniumId) -> int:
        """Start an on-demand scan of one document on one computer group; returns its id.

        Not retried after an uncertain failure (a duplicate scan throttles endpoints, and scans
        cannot be looked up): that raises `TransientError(uncertain=True)`.
        """
        path = f"{TR}/on-demand-scans"
        reply = await self._t.request(
            "POST",
            path,
            json={"computerGroupId": int(group_id), "intelDocId": int(intel_id)},
            object_name=f"intel {intel_id} on group {group_id}",
            idempotent=False,
        )
        data = reply.data
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            return 0
        return int(data["id"])

    # ------------------------------------------------------------------ reputation blocklist

    async def blocklist_add(self, entries: Sequence[DesiredBlocklist]) -> int:
        """Append entries to the custom blocklist, `blocklist_chunk` per call; returns how many.

        Idempotent thanks to Reputation's consolidation of entries sharing a hash, so chunks are
        retried blindly. Entries are checked first: one bad entry would fail its whole chunk.
        """
        path = f"{REP}/reputations/custom/upload"
        for entry in entries:
            check_entry(entry, path)
        chunks = [
            entries[i : i + self.blocklist_chunk]
            for i in range(0, len(entries), self.blocklist_chunk)
        ]
        await gather_all(
            self._t.request(
                "POST",
                path,
                params={"append": "true"},
                json=[entry_json(e) for e in chunk],
                object_name=f"{len(chunk)} entries from {chunk[0].name!r}",
            )
            for chunk in chunks
        )
        return len(entries)


def _moved(before: DeployStatus, now: DeployStatus) -> bool:
    return (now.current_revision, now.modified_at, now.created_at) != (
        before.current_revision,
        before.modified_at,
        before.created_at,
    )


def _task_id(data: Any, path: str) -> int:
    task = data.get("taskId") if isinstance(data, dict) else None
    if not isinstance(task, int):
        raise ProtocolError(
            "the deploy reply has no integer taskId",
            method="POST",
            path=path,
            body=repr(data)[:200],
        )
    return task
