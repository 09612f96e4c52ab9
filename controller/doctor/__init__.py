"""`octi-tanium doctor`: read-only checks that what the controller assumes of Tanium and OpenCTI
holds on *this* tenant, one line each with what to do (like `flux check --pre`).

Nothing here writes: every Tanium call is a GET, except `quick-add`, which builds an OpenIOC
document from values and stores nothing (see docs/tanium-api.md); every OpenCTI call is a query.
"""

from controller.doctor.model import Check, Status, exit_code
from controller.doctor.run import run_doctor

__all__ = ["Check", "Status", "exit_code", "run_doctor"]
