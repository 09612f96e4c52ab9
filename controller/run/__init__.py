"""The reconciler in production: the scheduler (`scheduler`), the one-writer lock (`lock`),
metrics (`metrics`), health and readiness (`health`), log lines (`logs`)."""

from controller.run.lock import LockBusy, file_lock, lock_path
from controller.run.logs import configure_logging
from controller.run.scheduler import Reconciler, run_forever, run_once

__all__ = [
    "LockBusy",
    "Reconciler",
    "configure_logging",
    "file_lock",
    "lock_path",
    "run_forever",
    "run_once",
]
