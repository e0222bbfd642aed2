"""The OpenSolar change envelope: parsing one JSON change into typed values, or a clear error.

A change is one JSON object modelled on OpenSolar's webhook payloads (see the README for the
format). ``parse_change`` turns its text into a ``Change`` or raises ``ChangeError`` naming every
field at fault, so that a batch can report the line and move on. Amounts are ``Decimal`` from the
first byte: JSON numbers are never read as floats.

Where things are: ``values`` (what a change is once read), ``readers`` (one field at a time,
with the limits) and ``parsing`` (the envelope and each document's fields).
"""

from __future__ import annotations

from domain.opensolar.parsing import (
    EVENTS,
    INVOICE_STATUSES,
    PAYMENT_STATUSES,
    decode_json,
    parse_change,
    parse_change_object,
)
from domain.opensolar.readers import Unusable
from domain.opensolar.values import (
    Change,
    Customer,
    InvoiceFields,
    InvoiceStatus,
    LineItem,
    Model,
    PaymentFields,
    PaymentStatus,
    round_money,
)

__all__ = [
    "EVENTS",
    "INVOICE_STATUSES",
    "PAYMENT_STATUSES",
    "Change",
    "Customer",
    "InvoiceFields",
    "InvoiceStatus",
    "LineItem",
    "Model",
    "PaymentFields",
    "PaymentStatus",
    "Unusable",
    "decode_json",
    "parse_change",
    "parse_change_object",
    "round_money",
]
