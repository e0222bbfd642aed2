"""A Xero client that sends nothing: it prints each call a delivery would make, with its body,
and answers as if Xero had accepted it (nothing found by a lookup, every create succeeds). Used
by ``--dry-run`` to show, call by call, what would be sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from domain.currencies import XERO_CURRENCIES
from outbox.xero import API_PREFIX, CallRecord, Split, XeroClient, dumps

_CREATED = {
    "/Contacts": ("Contacts", "ContactID"),
    "/Invoices": ("Invoices", "InvoiceID"),
    "/CreditNotes": ("CreditNotes", "CreditNoteID"),
    "/Payments": ("Payments", "PaymentID"),
}


def _total(element: Mapping[str, Any]) -> Decimal:
    lines = element.get("LineItems") or []
    return sum(
        (
            Decimal(str(line.get("Quantity", 1))) * Decimal(str(line.get("UnitAmount", 0)))
            for line in lines
        ),
        Decimal("0.00"),
    )


class DryRunXero(XeroClient):
    """Prints calls instead of making them."""

    def __init__(self, tenant_id: str | None, echo: Callable[[str], Any]) -> None:
        super().__init__(cast(Any, None), "https://xero.invalid", tenant_id)
        self.echo = echo
        self.calls: list[CallRecord] = []

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        summary: dict[str, Any] | None = None,
        owners: Sequence[str] = (),
        split: Split | None = None,
    ) -> Any:
        query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
        target = f"{method} {API_PREFIX}{path}" + (f"?{query}" if query else "")
        self.echo(f"  {target}" + (f"  Idempotency-Key: {key}" if key else ""))
        if body is not None:
            self.echo("    " + json.dumps(json.loads(dumps(body)), indent=None)[:2000])
        self.calls.append(
            CallRecord(operation, method, path, key, summary or {}, outcome="dry run")
        )
        if method == "GET":
            if path == "/Organisation":
                return {"Organisations": [{"Name": "(dry run)", "BaseCurrency": ""}]}
            if path == "/Currencies":
                return {"Currencies": [{"Code": code} for code in sorted(XERO_CURRENCIES)]}
            if path == "/Invoices" and params and params.get("IDs"):
                return {
                    "Invoices": [
                        {"InvoiceID": i, "Status": "AUTHORISED", "AmountDue": "9999999999.99"}
                        for i in params["IDs"].split(",")
                    ]
                }
            if path.startswith("/Invoices/"):
                invoice_id = path.rsplit("/", 1)[-1]
                return {"Invoices": [{"InvoiceID": invoice_id, "AmountDue": "9999999999.99"}]}
            collection = path.strip("/").split("/")[0]
            return {collection: []}
        for prefix, (collection, id_field) in _CREATED.items():
            if path.startswith(prefix) and isinstance(body, Mapping):
                elements = body.get(collection) or body.get("Allocations") or [{}]
                element = dict(elements[0])
                element.setdefault(id_field, f"(new {id_field})")
                if "LineItems" in element:
                    total = _total(element)
                    element.setdefault("Total", str(total))
                    element.setdefault("RemainingCredit", str(total))
                element.setdefault("Status", element.get("Status", "AUTHORISED"))
                key_name = "Allocations" if path.endswith("/Allocations") else collection
                return {key_name: [element]}
        return {}
