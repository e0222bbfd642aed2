"""The shapes syncledger's calls to Xero take, over ``XeroTransport``: a ``Lookup`` of several
terms in one GET (a ``where`` ORed over them, or a list of numbers or ids) whose answer is owned
per term, a batch create answered element by element, a single write, and a plain read; and the
summaries their records keep of a request (never a whole body)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from outbox.xero.answers import Element, elements, every, first
from outbox.xero.records import INDEX, Split
from outbox.xero.transport import XeroTransport

Owners = Sequence[Sequence[str]]
"""The documents each entry of a call is for, in the order of the entries."""
Render = Callable[[Sequence[Any]], str]

ONE_BY_ONE = {"summarizeErrors": "false"}
"""Xero answers each element of a write on its own."""
FOUR_DECIMALS = {**ONE_BY_ONE, "unitdp": "4"}


def quote(value: str) -> str:
    """A value inside a ``where``'s double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def where(field: str) -> Render:
    """Renders a lookup's ``where`` from its terms: ``Field=="a" OR Field=="b"``."""

    def render(terms: Sequence[Any]) -> str:
        return " OR ".join(f'{field}=="{quote(str(t))}"' for t in terms)

    return render


def listed(terms: Sequence[Any]) -> str:
    """Renders a lookup's list of numbers or ids: ``a,b``."""
    return ",".join(map(str, terms))


def _split(
    key: str,
    owners: Owners | None,
    count: int,
    match: str = INDEX,
    *,
    param: str | None = None,
    render: Render | None = None,
) -> Split:
    """Whose each of ``count`` entries is (nobody's when ``owners`` is None)."""
    chosen = owners or [[]] * count
    return Split(key, tuple(tuple(o) for o in chosen), match, None, param, render)


def document_summary(body: Mapping[str, Any], number_field: str) -> dict[str, Any]:
    """What a record keeps of an invoice or credit note sent: number, contact, lines."""
    lines = body.get("LineItems") or []
    return {
        "number": body.get(number_field),
        "contact_id": (body.get("Contact") or {}).get("ContactID"),
        "status": body.get("Status"),
        "line_amount_types": body.get("LineAmountTypes"),
        "lines": [
            {
                "account": line.get("AccountCode"),
                "tax_type": line.get("TaxType"),
                "quantity": str(line.get("Quantity")),
                "unit_amount": str(line.get("UnitAmount")),
            }
            for line in lines
        ],
    }


def batch(bodies: Sequence[Any], item: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """What a record keeps of a batch: its size and a summary of each body."""
    return {"count": len(bodies), "items": [item(b) for b in bodies]}


@dataclass(frozen=True)
class Lookup:
    """One GET for several terms at once, its answer owned per term."""

    operation: str
    path: str
    key: str
    """The request summary's list of terms."""
    match: str
    """The field of Xero's answer matched back to each term."""
    param: str
    render: Render
    page: bool = False
    """Ask for the first page (Xero then returns the lines of invoices)."""


class XeroCalls(XeroTransport):
    """The shapes of call ``XeroClient``'s named calls are made of."""

    def _lookup(
        self, lookup: Lookup, terms: list[str], owners: Owners | None
    ) -> list[dict[str, Any]]:
        """Xero's objects matching any of ``terms`` (one call; none for no terms)."""
        if not terms:
            return []
        params = {lookup.param: lookup.render(terms)}
        if lookup.page:
            params["page"] = "1"
        data = self._call(
            lookup.operation,
            "GET",
            lookup.path,
            params=params,
            summary={lookup.key: terms},
            split=_split(
                lookup.key,
                owners,
                len(terms),
                lookup.match,
                param=lookup.param,
                render=lookup.render,
            ),
        )
        return every(data, lookup.path.lstrip("/"))

    def _create_many(
        self,
        operation: str,
        collection: str,
        bodies: list[dict[str, Any]],
        key: str,
        owners: Owners | None,
        summary: dict[str, Any],
        params: Mapping[str, str] = ONE_BY_ONE,
    ) -> list[Element]:
        """Create several objects in one call; one element of Xero's answer per body, in order."""
        data = self._call(
            operation,
            "PUT",
            f"/{collection}",
            params=params,
            body={collection: bodies},
            key=key,
            summary=summary,
            split=_split("items", owners, len(bodies)),
        )
        return elements(data, collection, len(bodies))

    def _write_one(
        self,
        operation: str,
        path: str,
        collection: str,
        body: dict[str, Any],
        key: str,
        summary: dict[str, Any],
        owners: Sequence[str],
        params: Mapping[str, str] = ONE_BY_ONE,
        method: str = "PUT",
    ) -> dict[str, Any]:
        """Write one object; Xero's answer for it (its refusal raised)."""
        data = self._call(
            operation,
            method,
            path,
            params=params,
            body={collection: [body]},
            key=key,
            summary=summary,
            owners=owners,
        )
        return first(data, collection)

    def _read(self, operation: str, path: str, owners: Sequence[str]) -> Any:
        """A plain GET, its answer as Xero gave it."""
        return self._call(operation, "GET", path, owners=owners)

    def _search(
        self,
        operation: str,
        path: str,
        params: Mapping[str, str],
        summary: dict[str, Any],
        owners: Sequence[str],
    ) -> list[dict[str, Any]]:
        """A GET for one term; the items of the collection ``path`` names."""
        data = self._call(operation, "GET", path, params=params, summary=summary, owners=owners)
        return every(data, path.lstrip("/"))
