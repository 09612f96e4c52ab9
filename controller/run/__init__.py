"""The reconciler in production: the passes (`scheduler`), what each came to (`outcome`),
the writer lease across passes (`leader`), the service around them — socket, schedule,
signals (`service`), change windows and interval (`windows`), metrics (`metrics`,
`requests`), health and readiness (`health`), log lines (`logs`)."""

from controller.run.logs import configure_logging, logging_to_stderr
from controller.run.scheduler import Reconciler, run_once

__all__ = ["Reconciler", "configure_logging", "logging_to_stderr", "run_once"]
