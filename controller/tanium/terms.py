"""The tenant's OpenIOC terms, learned once from its quick-add and cached on disk.

`tenant_terms` asks `POST TR/intels/quick-add` (which stores nothing) for one sample value of
each type, and keeps {renderer term: tenant term} in `$OCTI_TANIUM_STATE_DIR/terms/` (one JSON
file per Tanium URL, replaced atomically). Later passes read the file: rendering stays
deterministic, and a plan records the translation in its inputs. When quick-add is unavailable
(a 403, a 404, an unreadable answer) the renderer's own terms are used and nothing is cached,
so the next pass asks again. Delete the file to learn again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from controller.lease.config import state_dir
from controller.render.terms import emitted_terms, sample_values, translation
from controller.state_files import write_json_atomically
from controller.tanium.errors import TaniumError
from controller.tanium.probes import TaniumProbes
from controller.tanium.snapshot import public_url

log = logging.getLogger("controller.tanium")


def terms_path(tanium_url: str, directory: Path | None = None) -> Path:
    scope = hashlib.sha256(public_url(tanium_url).encode()).hexdigest()
    return (directory or state_dir()) / "terms" / f"{scope[:24]}.json"


def cached_terms(tanium_url: str, directory: Path | None = None) -> dict[str, str]:
    """The terms learned earlier for this Tanium, without asking it (a plan made against a
    snapshot has no connection); empty: render with the defaults."""
    cached = _read(terms_path(tanium_url, directory))
    return translation(cached) if cached is not None else {}


async def tenant_terms(
    client: TaniumProbes, tanium_url: str, directory: Path | None = None
) -> dict[str, str]:
    """{renderer term: tenant term} for this Tanium (empty: render with the defaults)."""
    path = terms_path(tanium_url, directory)
    cached = _read(path)
    if cached is not None:
        return translation(cached)
    try:
        xml = {
            type_name: await client.quick_add(type_name, list(values.values()))
            for type_name, values in sample_values().items()
        }
        emitted = emitted_terms(xml)
    except (TaniumError, ValueError) as exc:
        log.warning("quick-add unavailable (%s): rendering OpenIOC with the default terms", exc)
        return {}
    _write(path, emitted)
    return translation(emitted)


def _read(path: Path) -> dict[str, str] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("OpenIOC terms cache %s unreadable (%s): learning again", path, exc)
        return None
    terms = raw.get("terms") if isinstance(raw, dict) else None
    if not isinstance(terms, dict):
        return None
    return {str(k): str(v) for k, v in terms.items() if isinstance(v, str)}


def _write(path: Path, emitted: dict[str, str]) -> None:
    write_json_atomically(path, {"format_version": 1, "terms": emitted})
