"""`TaniumClient`: the async client of Threat Response (intel, labels, deploy, scans) and the
Reputation custom list, for one Tanium host.

```python
async with TaniumClient.from_settings(TaniumSettings.from_env()) as tanium:
    state = await tanium.read_state("OpenCTI (octi-tanium)")
```

All calls share one connection pool and one semaphore (`max_in_flight` requests at a time), so
the apply executor may run writes concurrently without overwhelming the server.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
from pydantic import SecretStr

from controller.retry import RetryPolicy, Sleep
from controller.tanium.alerts import TaniumAlerts
from controller.tanium.probes import TaniumProbes
from controller.tanium.reads import TR
from controller.tanium.settings import TaniumSettings
from controller.tanium.transport import Transport
from controller.tanium.writes import TaniumWrites


class TaniumClient(TaniumWrites, TaniumAlerts, TaniumProbes):
    """Reads (`TaniumReads`) and writes (`TaniumWrites`) against one Tanium host.

    Use as an async context manager, or call `aclose()`. Test hooks: `http_transport` (e.g.
    `httpx.MockTransport`), `sleep`, `clock`, `wall_clock`, `rng` (no real waiting in tests).
    """

    def __init__(
        self,
        url: str,
        token: SecretStr | str,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout: float = 30.0,
        page_size: int = 500,
        max_in_flight: int = 8,
        retry: RetryPolicy | None = None,
        source_filter: bool = True,
        blocklist_chunk: int = 500,
        deploy_wait: float = 900.0,
        http_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if page_size < 1 or max_in_flight < 1 or blocklist_chunk < 1:
            raise ValueError("page_size, max_in_flight and blocklist_chunk must be positive")
        self._t = Transport(
            url,
            token if isinstance(token, SecretStr) else SecretStr(token),
            verify=verify,
            timeout=timeout,
            max_in_flight=max_in_flight,
            retry=retry,
            http_transport=http_transport,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
        )
        self.page_size = page_size
        self.source_filter = source_filter
        self.intels_path = f"{TR}/intels/"
        self.blocklist_chunk = blocklist_chunk
        self.deploy_wait = deploy_wait

    @classmethod
    def from_settings(cls, settings: TaniumSettings, **overrides: Any) -> TaniumClient:
        """A client for `settings` (see `TaniumSettings.from_env`); keyword overrides win."""
        settings = settings.resolved()
        options: dict[str, Any] = {
            "verify": settings.verify(),
            "timeout": settings.timeout,
            "page_size": settings.page_size,
            "max_in_flight": settings.max_in_flight,
            "retry": settings.retry_policy(),
        }
        options.update(overrides)
        return cls(settings.url, settings.token, **options)

    @property
    def url(self) -> str:
        return self._t.base_url

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far (retries included)."""
        return self._t.requests_sent

    def __repr__(self) -> str:
        return f"TaniumClient({self._t.base_url!r})"

    async def aclose(self) -> None:
        await self._t.aclose()

    async def __aenter__(self) -> TaniumClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
