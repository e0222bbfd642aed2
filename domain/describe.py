"""What events mean, in words: one line per event, for histories and audit output."""

from __future__ import annotations

from typing import Any

from domain.customer import Customer
from domain.documents import Document, Invoice
from domain.opensolar import Change
from domain.organisation import Organisation
from domain.wording import counted


def describe(event: Any) -> str:
    """One human line saying what an event means."""
    name = type(event).__name__
    change: Change | None = getattr(event, "change", None)
    if isinstance(change, Change):
        status = getattr(change.fields, "status", None)
        text = f"OpenSolar {change.event} {change.event_id}" + (
            f" (status {status})" if status else ""
        )
        if name == "ChangeIgnored":
            return f"{text} ignored: {event.reason}"
        if name == "AmendedAfterSync":
            return f"{text}: {event.guidance}"
        if name == "Amended":
            return f"{text}: changed after it was sent to Xero ({', '.join(event.fields)})"
        return text
    if isinstance(event, Document.SyncRequested | Document.RetryRequested):
        verb = "retry" if isinstance(event, Document.RetryRequested) else "sync"
        return f"{verb} of {event.operation} requested: {event.reason}"
    if isinstance(event, Document.SyncSucceeded):
        return f"{event.operation} synced: {event.detail} (Xero id {event.xero_id})"
    if isinstance(event, Document.SyncFailed):
        final = "failed" if event.final else "attempt failed"
        retry = f"; retry at {event.retry_at.isoformat()}" if event.retry_at else ""
        action = f"; to do: {event.action}" if getattr(event, "action", "") else ""
        return f"{event.operation} {final} ({event.category}): {event.error}{retry}{action}"
    if isinstance(event, Document.SyncDeferred):
        return f"{event.operation} delivery deferred: {event.reason}"
    if isinstance(event, Document.SyncSkipped):
        return f"{event.operation}: nothing sent ({event.reason})"
    if isinstance(event, Document.BackInLine):
        return f"in line with Xero again: {event.reason}"
    if isinstance(event, Invoice.PaymentLinked):
        return f"payment {event.payment} made against this invoice"
    if isinstance(event, Invoice.PaymentUnlinked):
        return f"payment {event.payment} moved to another invoice"
    if isinstance(event, Organisation.TenantSwitched):
        return (
            f"switched from Xero organisation {event.previous_tenant_id} to {event.tenant_id} "
            f"({counted(event.synced_documents, 'document')} stay synced to the old one)"
        )
    if isinstance(event, Organisation.NumberSuffixSet):
        return "reissued numbers are " + (
            "sent as NUMBER-2, NUMBER-3 …" if event.enabled else "refused with the reason"
        )
    if isinstance(event, Organisation.RoundingAccountSet):
        return f"rounding lines go to Xero account {event.code}"
    if isinstance(event, Document.Received):
        return "first change received"
    if isinstance(event, Organisation.Registered):
        return f"organisation {event.org_id} registered"
    if isinstance(event, Organisation.Connected):
        return (
            f"connected to Xero tenant {event.tenant_id} at {event.xero_url} ({event.method}) "
            f"from {event.connected_at.isoformat()}"
        )
    if isinstance(event, Organisation.Disconnected):
        return f"disconnected from Xero: {event.reason}"
    if isinstance(event, Organisation.AccountMapped):
        return f"line category '{event.category}' mapped to Xero account {event.code}"
    if isinstance(event, Organisation.TaxRateMapped):
        return f"tax rate '{event.tax_rate}' mapped to Xero tax type {event.tax_type}"
    if isinstance(event, Organisation.PaymentAccountSet):
        return f"payments go to Xero account {event.code}"
    if isinstance(event, Organisation.InvoiceStatusSet):
        return f"new invoices are created as {event.status}"
    if isinstance(event, Organisation.Reconciled):
        return f"reconciled with Xero tenant {event.tenant_id}: {event.differences} differences"
    if isinstance(event, Customer.Registered):
        return f"customer {event.key} registered"
    if isinstance(event, Customer.ContactMatched):
        return f"matched Xero contact {event.contact_name} ({event.contact_id}): {event.how}"
    return name
