"""`--source opencti`: indicators and observables from the OpenCTI GraphQL API (httpx).

```python
settings = OpenCTISettings.from_env()          # OPENCTI_URL, OPENCTI_TOKEN[_FILE], ...
snapshot = await fetch_snapshot(settings, policies, now=now, progress=progress)
```

Modules: `settings` (environment), `queries` (every operation sent), `filters` (policy
selectors → FilterGroups), `client` (transport, retries, error classes), `mapping` (nodes →
`SourceObject`), `fetch` (pagination, completeness; the command line draws its progress),
`schema` (the real OpenCTI schema, for validation and the emulator).
"""

from controller.sources.opencti.errors import (
    OpenCTIAuthError,
    OpenCTIError,
    OpenCTIGraphQLError,
    OpenCTIProtocolError,
    OpenCTIQueryError,
    OpenCTITransientError,
)
from controller.sources.opencti.fetch import Progress, fetch_snapshot
from controller.sources.opencti.settings import OpenCTISettings, OpenCTISettingsError

__all__ = [
    "OpenCTIAuthError",
    "OpenCTIError",
    "OpenCTIGraphQLError",
    "OpenCTIProtocolError",
    "OpenCTIQueryError",
    "OpenCTISettings",
    "OpenCTISettingsError",
    "OpenCTITransientError",
    "Progress",
    "fetch_snapshot",
]
