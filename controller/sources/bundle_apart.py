"""A large bundle read on the machine's other core, while the pass reads Tanium.

The driver reads the source and Tanium at once (`reconcile.both`), but in one interpreter
the two reads only overlap their waits: the bundle's parse and Tanium's decoding share one
core, and cost their sum (at 100,000 indicators ~0.9 s each). Here a forked child reads and
maps the bundle (`read_bundle`) while the parent reads Tanium, and hands back each object's
fields, pickled through a pipe: the parent only rebuilds the objects (~0.2 s at 100,000).

Only where it pays and is safe: a bundle of at least `APART_FROM` bytes, on a platform with
`fork`, in a process with no other thread (forking a threaded process can deadlock the
child). Anything else — and any failure of the child: an unreadable or invalid bundle, a
crash, a signal — is the in-process read, in a thread, which says what went wrong exactly as
before. The snapshot is the same either way (`tests/unit/test_bundle_apart.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from controller.core.model import SourceObject, SourceSnapshot
from controller.sources.bundle import read_bundle

APART_FROM = 8 * 2**20
"""Bytes: a smaller bundle is read in-process (a fork and a pickle would cost more than they
save: ~40,000 indicators take 0.35 s to read)."""


async def read_bundle_apart(
    path: Path, *, now: datetime, threshold: int = APART_FROM
) -> SourceSnapshot:
    """`read_bundle(path, now=now)`, in a forked child when the bundle is large (see the
    module), else in a thread; either way the event loop goes on (the Tanium read)."""
    size = _size(path)
    if not _may_fork() or size is None or size < threshold:
        return await asyncio.to_thread(read_bundle, path, now=now)
    pid, pipe = _fork_reader(path, now)
    snapshot = await asyncio.to_thread(_collect, pid, pipe, now)
    if snapshot is None:  # the child failed: read here, and say why as usual
        return await asyncio.to_thread(read_bundle, path, now=now)
    return snapshot


def _may_fork() -> bool:
    return (
        hasattr(os, "fork") and sys.platform.startswith("linux") and threading.active_count() == 1
    )


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None  # the in-process read says why


def _fork_reader(path: Path, now: datetime) -> tuple[int, int]:
    """The child's pid and the read end of the pipe its result comes through."""
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, write, leave without running any of the parent's exit code
        status = 1
        with contextlib.suppress(BaseException):
            # the parent's event loop handles its signals: none of it here (Ctrl-C ends the
            # child, and the parent then reads in-process, or stops)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.close(readable)
            snapshot = read_bundle(path, now=now)
            fields = [obj.__dict__ for obj in snapshot.objects]
            reply = (fields, snapshot.complete, snapshot.incomplete_reasons, snapshot.query_hash)
            with os.fdopen(writable, "wb") as out:
                pickle.dump(reply, out, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        os._exit(status)
    os.close(writable)
    return pid, readable


def _collect(pid: int, pipe: int, now: datetime) -> SourceSnapshot | None:
    """The child's snapshot, or None when it did not deliver one."""
    with os.fdopen(pipe, "rb") as reply:
        data = reply.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        fields, complete, reasons, query_hash = pickle.loads(data)
    except Exception:  # a child cut short mid-write
        return None
    del data
    # the dicts as the child's mapping made them: every field, typed, in declared order
    objects = tuple(map(SourceObject.adopt, fields))
    return SourceSnapshot(
        objects=objects,
        complete=complete,
        incomplete_reasons=reasons,
        snapshot_time=now,
        query_hash=query_hash,
    )
