"""A faithful local OpenCTI: the real GraphQL schema executed by graphql-core (§12).

```python
app = create_app(OpenCTIConfig(tokens=["t0ken"], seed="demo"))
state = app.state.opencti          # store, clock, faults, counters, test hooks
```

Modules: `config`, `app` (HTTP, auth, faults), `schema` (its own copy of the schema file),
`executor` (parse, validate, protections, execution), `resolvers` / `mutations`, `listing`
(ordering, cursors, pagination), `filtering` (FilterGroups), `store` / `records` (the
knowledge base), `stix` (its own STIX 2.1 reading) and `loader` (seeding), `faults` (rules
over the shared `octi_sandbox.faults`), `routes_sandbox` (`/__sandbox/`), `state`, `server`
(`serve_opencti`, over the shared `octi_sandbox.server`).
"""

from octi_sandbox.opencti.app import create_app
from octi_sandbox.opencti.config import DEFAULT_TOKEN, OpenCTIConfig
from octi_sandbox.opencti.state import DEMO_SEED, OpenCTIState, seed_demo

__all__ = ["DEFAULT_TOKEN", "DEMO_SEED", "OpenCTIConfig", "OpenCTIState", "create_app", "seed_demo"]
