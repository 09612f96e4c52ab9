"""Small JSON files under `$OCTI_TANIUM_STATE_DIR`, replaced atomically (a crash leaves the
old file or the new one, never half of one)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO


def write_json_atomically(path: Path, body: Any) -> None:
    """`body` as indented JSON, replaced atomically."""
    _replace(path, lambda out: json.dump(body, out, indent=1, sort_keys=True))


def write_lines_atomically(path: Path, lines: Iterable[str]) -> None:
    """`lines` (each without its newline) as one file, replaced atomically: large state that
    one JSON document with indentation would bloat (the OpenCTI snapshot)."""

    def write(out: TextIO) -> None:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 4096:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")

    _replace(path, write)


def _replace(path: Path, write: Callable[[TextIO], None]) -> None:
    """What `write` writes, in a temporary file beside `path`, synced, then renamed over it;
    the temporary file removed if anything fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
