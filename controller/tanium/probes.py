"""Single, raw reads for `octi-tanium doctor`: one GET as the server answers it (no paging, no
mapping), and quick-add, which builds an OpenIOC document from values and stores nothing."""

from __future__ import annotations

from typing import Any

from controller.tanium.errors import ProtocolError
from controller.tanium.reads import TR
from controller.tanium.transport import Reply, Transport

QUICK_ADD = f"{TR}/intels/quick-add"


class TaniumProbes:
    """Mixed into `TaniumClient`, which sets `_t`."""

    _t: Transport

    async def probe(self, path: str, params: dict[str, str | int] | None = None) -> Reply:
        """One GET; the reply unwrapped but not mapped (a `TaniumError` on failure)."""
        return await self._t.request("GET", path, params=params)

    async def quick_add(self, type_name: str, values: list[str]) -> str:
        """The OpenIOC XML quick-add builds for `values` (`Network Indicators` or `File
        Hashes`). Tanium stores nothing for this call."""
        body: dict[str, Any] = {
            "exact": True,
            "name": "octi-tanium doctor",
            "type": type_name,
            "text": "\n".join(values),
        }
        response = await self._t.send_once("POST", QUICK_ADD, json=body)
        if not response.is_success:
            raise self._t.status_error(response, "POST", QUICK_ADD)
        if not response.text.lstrip().startswith("<"):
            raise ProtocolError(
                "quick-add did not answer XML", method="POST", path=QUICK_ADD, body=response.text
            )
        return response.text
