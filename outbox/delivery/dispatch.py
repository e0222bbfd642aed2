"""The delivery of a batch of outbox messages of one organisation: each operation to its part.

Invoices and payments go in batches of up to 50 per call (``summarizeErrors=false``), each
element's outcome on its own document; cancellations read their invoices in one call. Documents
and their organisation are loaded fresh from the ledger and mapped at send time.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.documents import Document
from domain.ledger import SyncLedger
from domain.mapping import OPENSOLAR_URL
from domain.organisation import Organisation
from domain.vocabulary import FailureCategory, Operation
from outbox.delivery.cancellations import Cancellations
from outbox.delivery.contacts import ContactLock, Contacts
from outbox.delivery.context import Context, NumberIndex
from outbox.delivery.facts import XeroFacts
from outbox.delivery.invoices import Invoices
from outbox.delivery.outcomes import Item, Outcome, Refused, Stale
from outbox.delivery.payments import Payments
from outbox.store import Message
from outbox.xero import XeroClient


class Delivery:
    """Delivers messages of one organisation through one ``XeroClient``."""

    def __init__(
        self,
        ledger: SyncLedger,
        client: XeroClient,
        tenant_id: str,
        *,
        numbers: NumberIndex,
        contact_lock: ContactLock | None = None,
        facts: XeroFacts | None = None,
        url_base: str = OPENSOLAR_URL,
    ) -> None:
        self.ledger = ledger
        self.client = client
        self.tenant_id = tenant_id
        self.numbers = numbers
        self.contact_lock = contact_lock
        self.facts = facts or XeroFacts()
        self.url_base = url_base

    def run(self, message: Message, document: Document, org: Organisation) -> Outcome:
        """Deliver one message (raises ``XeroError`` on Xero's failures)."""
        return self.run_many([Item(message, document)], org)[message.id]

    def run_many(self, items: Sequence[Item], org: Organisation) -> dict[int, Outcome]:
        """Deliver messages of one organisation; one outcome per message id (raises
        ``XeroError`` when a whole call fails)."""
        ctx = Context(
            self.ledger,
            self.client,
            self.tenant_id,
            org,
            self.facts,
            Contacts(self.ledger, self.client, org.org_id, self.tenant_id, self.contact_lock),
            self.numbers,
            self.url_base,
        )
        results: dict[int, Outcome] = {}
        live: dict[str, list[Item]] = {}
        for item in items:
            request = item.document.open_request
            if request is None or request.version != item.message.request_version:
                results[item.message.id] = Stale("this request is already resolved")
            else:
                live.setdefault(item.message.operation, []).append(item)
        invoices, payments = Invoices(ctx), Payments(ctx)
        for operation, group in live.items():
            if operation == Operation.INVOICE:
                results.update(invoices.create(group))
            elif operation == Operation.PAYMENT:
                results.update(payments.create(group))
            elif operation == Operation.CREDIT_NOTE:
                results.update(Cancellations(ctx).run(group))
            elif operation == Operation.INVOICE_UPDATE:
                results.update({i.message.id: invoices.update(i) for i in group})
            elif operation == Operation.PAYMENT_DELETE:
                results.update({i.message.id: payments.delete(i) for i in group})
            else:
                for item in group:
                    results[item.message.id] = Refused(
                        f"unknown operation {operation!r} for {item.document.reference}",
                        FailureCategory.INTERNAL,
                    )
        return results
