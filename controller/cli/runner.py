"""`octi-tanium run`: checks made before anything starts, then the service or one pass.

Before any pass, each a one-line error and exit 1: the policies must be there and valid (the
image bakes none: an operator who forgets to mount them must not sync all of OpenCTI), the
state directory writable (file lock), the `--listen` address free.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from controller.errors import UserError
from controller.reconcile import Progress, load_checked


def check_policies(policies: Path) -> None:
    """The policies directory exists, holds policy files, and they load."""
    if not policies.exists():
        raise UserError(
            f"no policies at {policies}: mount your policies there, or point --policies or "
            "OCTI_TANIUM_POLICIES at them (the image ships none on purpose)"
        )
    if policies.is_dir() and not any(
        p.suffix in (".yaml", ".yml") for p in policies.rglob("*") if p.is_file()
    ):
        raise UserError(
            f"no policy files (*.yaml, *.yml) in {policies}: mount your policies there, or "
            "point --policies or OCTI_TANIUM_POLICIES at them"
        )
    load_checked(policies)


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UserError(f"--listen {listen!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def start(
    *,
    once: bool,
    listen: str,
    policies: Path,
    source: str,
    lock_timeout: float,
    unready_after: int,
    progress: Progress | None,
) -> int:
    """Run the reconciler; the exit code (the command line's: 0, 1, 3)."""
    from controller.run.leader import check_state_dir
    from controller.run.scheduler import Reconciler
    from controller.run.service import bind_listen, serve
    from controller.run.service import once as run_one

    check_policies(policies)
    check_state_dir()
    reconciler = Reconciler(
        policies,
        source,
        lock_timeout=lock_timeout,
        unready_after=unready_after,
        progress=progress if once else None,
    )
    if once:
        return asyncio.run(run_one(reconciler))
    host, port = parse_listen(listen)
    sock = bind_listen(host, port)
    try:
        asyncio.run(serve(reconciler, sock))
    finally:
        sock.close()
    return 0
