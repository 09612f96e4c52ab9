"""`octi_tanium_requests_total{system, endpoint, status}` and the retry waits, without touching
the clients: httpx logs every response it gets (`HTTP Request: METHOD URL "HTTP/1.1 200 OK"`),
and the retry loop sleeps through the injectable `Timing`.

An endpoint is the method and the URL path with its numeric ids folded (`GET
/plugin/products/threat-response/api/v1/intels/{id}`), so label sets stay bounded. The system
is Tanium when the URL is under `TANIUM_URL`, else OpenCTI.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from urllib.parse import urlsplit

from controller.retry import Timing
from controller.run.metrics import REQUESTS, RETRY_WAIT

_ID = re.compile(r"/(?:\d+|[0-9a-f]{8}-[0-9a-f-]{27,})(?=/|$)")


def endpoint_of(method: str, url: str) -> str:
    return f"{method} {_ID.sub('/{id}', urlsplit(url).path) or '/'}"


class RequestCounter(logging.Handler):
    """Counts the responses httpx logs (it logs one record per response, at INFO)."""

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if not isinstance(args, tuple) or len(args) < 4:
            return
        method, url, status = str(args[0]), str(args[1]), str(args[3])
        tanium = os.environ.get("TANIUM_URL", "").rstrip("/")
        system = "tanium" if tanium and url.startswith(tanium) else "opencti"
        REQUESTS.labels(system, endpoint_of(method, url), status).inc()


def count_requests() -> None:
    """Install the counter on httpx's logger (once)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(h, RequestCounter) for h in logger.handlers):
        logger.addHandler(RequestCounter())
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)


async def _metered_sleep(seconds: float) -> None:
    RETRY_WAIT.inc(seconds)
    await asyncio.sleep(seconds)


def metered_timing() -> Timing:
    """The clients' retry timing, each wait added to `octi_tanium_retry_wait_seconds_total`."""
    return Timing(sleep=_metered_sleep)
