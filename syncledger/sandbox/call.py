"""The context one Accounting API call runs in: its organisation, request, clock and caller.

Handlers receive a `Call` with the tenant's `Organisation` already locked, and use its helpers to
read the JSON body (exact decimals; malformed JSON is Xero's PostDataInvalidException), the
`unitdp` option and today's date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from syncledger.sandbox import wire
from syncledger.sandbox.errors import ApiError
from syncledger.sandbox.exchange import Request, message_error
from syncledger.sandbox.model import Organisation


@dataclass
class Call:
    """One API call against one organisation."""

    org: Organisation
    request: Request
    now: float
    client_key: str

    def today(self) -> dt.date:
        """Today's date (UTC), Xero's default for document and payment dates."""
        return wire.utc_today(self.now)

    def unit_dp(self) -> int:
        """Decimal places for unit amounts: 4 with `unitdp=4`, else 2 (notes §1.6)."""
        return 4 if (self.request.param("unitdp") or "").strip() == "4" else 2

    def json_body(self) -> Any:
        """The parsed body, or a 400 when it is missing or not JSON."""
        if not self.request.body.strip():
            raise ApiError(
                message_error(400, 14, "PostDataInvalidException", "Request body is empty")
            )
        try:
            return wire.loads(self.request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                message_error(
                    400, 14, "PostDataInvalidException", f"Invalid JSON in request body: {exc}"
                )
            ) from exc
