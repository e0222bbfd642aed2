"""The reconciliation's words, defined once: each kind of finding is the string reports have
always printed, the summary counts every kind with plain string keys, and its error is an
``OutboxError``."""

from __future__ import annotations

import json

from outbox.errors import OutboxError
from outbox.reconcile import (
    CATEGORIES,
    Difference,
    Finding,
    ReconcileError,
    XeroSnapshot,
    summarise,
)
from outbox.reconcile.records import XeroCreditNote, XeroInvoice, XeroPayment
from outbox.xero.taxes import rates_by_tax_type, tax_types_by_account


def test_the_finding_kinds_are_the_strings_reports_print_in_their_order():
    assert list(CATEGORIES) == [
        "missing",
        "voided",
        "deleted",
        "removed",
        "duplicate",
        "unexpected",
        "total_differs",
        "amount_due_differs",
        "unexplained",
    ]
    assert Finding.MISSING is Finding.MISSING


def test_the_summary_counts_every_kind_under_plain_string_keys():
    found = [
        Difference(Finding.MISSING, "invoice", "invoice:1", "A", "x1", "Synced", None, "gone"),
        Difference("missing", "payment", "payment:1", "p", "p1", "Synced", None, "gone"),
    ]

    summary = summarise(found)

    assert summary["missing"] == 2 and sum(summary.values()) == 2
    assert all(type(k) is str for k in summary)
    assert json.loads(json.dumps(found[0].as_json()))["category"] == "missing"


def test_a_snapshot_finds_each_kind_of_record_by_the_operation_that_made_it():
    snapshot = XeroSnapshot()
    invoice = XeroInvoice("i1", "A", "AUTHORISED", None, None, None, "", None)
    credit = XeroCreditNote("c1", "CN-A", "AUTHORISED", None, None, None)
    payment = XeroPayment("p1", "i1", None, "AUTHORISED", "", None)
    for record in (invoice, credit, payment):
        snapshot.add(record)

    assert snapshot.held("invoice", "i1") is invoice
    assert snapshot.held("credit_note", "c1") is credit
    assert snapshot.held("payment", "p1") is payment
    assert snapshot.held("invoice", "c1") is None
    assert snapshot.records() == [invoice, credit, payment]


def test_the_tax_table_is_read_from_xeros_answers_the_same_way_everywhere():
    rates = [{"TaxType": "output", "EffectiveRate": "10"}, {"EffectiveRate": "5"}, "junk"]
    accounts = [{"Code": "Sales", "TaxType": "OUTPUT"}, {"Code": "400"}, {"TaxType": "NONE"}]

    assert rates_by_tax_type(rates) == {"OUTPUT": 10}
    assert tax_types_by_account(accounts) == {"sales": "OUTPUT"}


def test_reconcile_errors_are_outbox_errors():
    assert issubclass(ReconcileError, OutboxError)
