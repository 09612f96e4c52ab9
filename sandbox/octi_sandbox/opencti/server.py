"""The OpenCTI emulator over real HTTP, for tests (see `octi_sandbox.server`).

```python
with serve_opencti(OpenCTIConfig(seed="demo")) as (base_url, state):
    ...
```
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from octi_sandbox.opencti.app import create_app
from octi_sandbox.opencti.config import OpenCTIConfig
from octi_sandbox.opencti.state import OpenCTIState
from octi_sandbox.server import serve_in_thread


@contextmanager
def serve_opencti(config: OpenCTIConfig | None = None) -> Iterator[tuple[str, OpenCTIState]]:
    """A fresh emulator over real HTTP: (base URL, its state for in-process test hooks)."""
    app = create_app(config)
    with serve_in_thread(app) as url:
        yield url, app.state.opencti
