"""The checks an invoice passes before any call creates it in Xero: its mappings, its currency
against the Xero organisation's, its number against the documents that used it before
(``choose_number``), and its total against OpenSolar's stated one (a rounding line closes a
rounding gap). A failed check is a ``Refused`` saying what to change."""

from __future__ import annotations

from domain.documents import Invoice
from domain.errors import MappingError
from domain.mapping import MissingMappings, priced_lines
from domain.money import MoneyError, Rounding, rounding
from domain.numbers import choose_number, suffixed
from domain.opensolar import InvoiceFields
from domain.vocabulary import FailureCategory
from outbox.delivery.context import Context
from outbox.delivery.outcomes import Item, Outcome, Refused


class InvoiceChecks:
    """Checks the invoices of one organisation before they are sent."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def rounding(
        self, invoice: Invoice, fields: InvoiceFields, owners: list[str]
    ) -> Rounding | None:
        """The rounding line that makes Xero's total OpenSolar's stated one, if one is needed
        (``MoneyError`` when the gap is more than rounding)."""
        ctx = self.ctx
        if fields.stated_total is None:
            return None
        taxes = (
            None
            if fields.amounts_include_tax
            else ctx.facts.taxes(ctx.tenant_id, ctx.client, owners)
        )
        return rounding(fields, priced_lines(fields, ctx.org), taxes, ctx.org.rounding_account)

    def earlier(self, invoice: Invoice, number: str) -> list[str]:
        """The invoices issued with ``number`` before this one."""
        users = self.ctx.number_users(number)
        mine = str(invoice.id)
        return users[: users.index(mine)] if mine in users else users

    def numbers_used(self, invoice: Invoice, fields: InvoiceFields) -> set[str]:
        """Every number an attempt of this invoice may have used: its own, and the suffixed one
        when earlier invoices used it."""
        earlier = self.earlier(invoice, fields.invoice_number)
        if not earlier:
            return {fields.invoice_number}
        return {fields.invoice_number, suffixed(fields.invoice_number, len(earlier) + 1)}

    def _number(self, invoice: Invoice, fields: InvoiceFields) -> tuple[str | None, Refused | None]:
        earlier_ids = self.earlier(invoice, fields.invoice_number)
        if not earlier_ids:
            return fields.invoice_number, None
        earlier = [e for e in (self.ctx.invoice(d) for d in earlier_ids) if e is not None]
        choice = choose_number(
            fields.invoice_number,
            list(earlier),
            len(earlier_ids) + 1,
            suffix=self.ctx.org.number_suffix,
            org_id=invoice.org_id,
            reference=invoice.reference,
        )
        if choice.number is None:
            return None, Refused(choice.error, FailureCategory.BLOCKED, choice.action)
        return choice.number, None

    def check(
        self, item: Item, invoice: Invoice, fields: InvoiceFields
    ) -> Outcome | tuple[str, Rounding | None]:
        """The number to send it under and its rounding line, or why it cannot be sent."""
        ctx = self.ctx
        try:
            priced_lines(fields, ctx.org)
        except MappingError as exc:
            missing = MissingMappings(exc.categories, exc.tax_rates)
            return Refused(
                str(exc),
                FailureCategory.CONFIGURATION,
                missing.action(invoice.org_id, invoice.number),
            )
        code = fields.currency
        currencies = ctx.facts.currencies(ctx.tenant_id, ctx.client, [item.doc], code)
        if not currencies.allows(code):
            currencies = ctx.facts.currencies(
                ctx.tenant_id, ctx.client, [item.doc], code, fresh=True
            )
        if not currencies.allows(fields.currency):
            return Refused(
                f"invoice in {fields.currency}, but the Xero organisation has "
                f"{currencies.describe()}",
                FailureCategory.CONFIGURATION,
                f"enable {fields.currency} in Xero (Settings → Currencies) and run `syncledger "
                f"retry {invoice.number}`, or correct the invoice's currency in OpenSolar",
            )
        number, refusal = self._number(invoice, fields)
        if refusal is not None or number is None:
            return refusal or Refused("no number", FailureCategory.INTERNAL)
        try:
            extra = self.rounding(invoice, fields, [item.doc])
        except MoneyError as exc:
            return Refused(
                str(exc),
                FailureCategory.REJECTED,
                f"correct the invoice's lines or total in OpenSolar (it is sent again "
                f"automatically), or run `syncledger retry {invoice.number}` once corrected",
            )
        return number, extra
