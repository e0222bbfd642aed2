"""The page's own words: command-line actions and reasons said as the page's buttons (Retry,
Sync) or as a request to an administrator; chip labels; empty states; notices. Pure, as tables."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from domain.actions import default_action
from projections.status import StatusRow, StatusView
from syncledger.web.backend import Snapshot
from syncledger.web.pages import Filters, chip, empty_text
from syncledger.web.store import Session, User
from syncledger.web.wording import (
    CATEGORY_ACTIONS,
    CLI_COMMAND,
    chip_label,
    notice_text,
    page_action,
    page_words,
)

MAP = (
    "ask an administrator to map a Xero account for the line category named in the reason, "
    "then press Retry"
)

ROW = StatusRow(
    doc_id="d1", org="42", kind="invoice", opensolar_id="1", number="INV-1", status="Failed"
)


def failed(action: str | None, category: str | None = "configuration") -> StatusRow:
    return dataclasses.replace(ROW, action=action, category=category, error="boom")


def session(admin: bool = False) -> Session:
    return Session(User(1, "j@example.com", "42", admin, ""), "csrf", 0)


@pytest.mark.parametrize(
    ("ledger", "page"),
    [
        (
            "map it with `syncledger config map-account 42 CATEGORY CODE` (or `config map-tax`), "
            "then run `syncledger retry INV-1`",
            MAP,
        ),
        (
            "map it with `syncledger config map-account 42 incentives CODE`, then run "
            "`syncledger retry INV-1`",
            MAP,
        ),
        (
            "map it with `syncledger config map-account 42 sales CODE` and `syncledger config "
            "map-tax 42 GST TAX_TYPE`, then run `syncledger retry INV-1`",
            "ask an administrator to map the Xero accounts and tax types the reason names, then "
            "press Retry",
        ),
        (
            "map it with `syncledger config map-tax 42 GST TAX_TYPE`, then run "
            "`syncledger retry INV-1`",
            "ask an administrator to map a Xero tax type for the tax rate named in the reason, "
            "then press Retry",
        ),
        (
            "enable AUD in Xero (Settings → Currencies) and run `syncledger retry INV-1`, or "
            "correct the invoice's currency in OpenSolar",
            "enable AUD in Xero (Settings → Currencies) and press Retry, or correct the "
            "invoice's currency in OpenSolar",
        ),
        (
            "correct the invoice's lines or total in OpenSolar (it is sent again automatically), "
            "or run `syncledger retry INV-1` once corrected",
            "correct the invoice's lines or total in OpenSolar (it is sent again automatically), "
            "or press Retry once corrected",
        ),
        (
            "give INV-1 a new number in OpenSolar (it is sent again automatically), or run "
            "`syncledger config number-suffix 42 on` and `syncledger retry INV-1` if it reissues "
            "invoice:7",
            "give INV-1 a new number in OpenSolar (it is sent again automatically), or ask an "
            "administrator to turn on numbered reissues (NUMBER-2 …) for organisation 42 and "
            "press Retry if it reissues invoice:7",
        ),
        (
            "fix the mapping, then run `syncledger retry INV-1`",
            "ask an administrator to fix the account mapping, then press Retry",
        ),
        (
            "run `syncledger config payment-account 42 CODE`, then `syncledger retry payment:3`",
            "ask an administrator to set the Xero account that receives payments, then press Retry",
        ),
        (
            "Missing Payment Account: no Xero account is set for receiving payments (run "
            "`syncledger config payment-account 42 CODE`)",
            "Missing Payment Account: no Xero account is set for receiving payments (ask an "
            "administrator to set the Xero account that receives payments)",
        ),
        (
            "find out what happened to it in Xero (`syncledger audit reconcile 42`); nothing more "
            "is sent for INV-1",
            "find out what happened to it in Xero (ask an administrator to reconcile organisation "
            "42 with Xero); nothing more is sent for INV-1",
        ),
        (
            "organisation 42 has no stored Xero tokens: run `syncledger connect 42`",
            "organisation 42 has no stored Xero tokens: ask an administrator to connect "
            "organisation 42 to Xero",
        ),
        (
            "Xero refused the token request (invalid_grant): reconnect with `syncledger connect`",
            "Xero refused the token request (invalid_grant): ask an administrator to connect the "
            "organisation to Xero",
        ),
        (
            "invoice:1: organisation 42 is not connected to Xero; run `syncledger connect` first",
            "invoice:1: organisation 42 is not connected to Xero; ask an administrator to connect "
            "the organisation to Xero first",
        ),
        ("invoice:1 is Failed: use `syncledger retry`", "invoice:1 is Failed: press Retry"),
        (
            "issued before the Xero connection (2026-11-01 00:00 UTC); run `syncledger sync "
            "INV-1` to send it",
            "issued before the Xero connection (2026-11-01 00:00 UTC); press Sync to send it",
        ),
        (
            "waiting for invoice INV-1 (Not Attempted: run `syncledger sync INV-1`)",
            "waiting for invoice INV-1 (Not Attempted: press Sync on INV-1)",
        ),
        (
            "Xero connection lost: run `syncledger connect 42`",
            "Xero connection lost: ask an administrator to connect organisation 42 to Xero",
        ),
        (
            "see the outbox (`syncledger health --json`)",
            "see the outbox",
        ),
        (
            "look it up (`syncledger history INV-1`)",
            "look it up (ask an administrator to do it)",
        ),
        ("queued for delivery", "queued for delivery"),
        (
            "report the reason to whoever runs syncledger",
            "report the reason to whoever runs syncledger",
        ),
    ],
)
def test_command_line_instructions_become_the_pages_buttons_or_an_administrators_task(
    ledger: str, page: str
) -> None:
    assert page_words(ledger) == page
    assert not CLI_COMMAND.search(page_words(ledger))


@pytest.mark.parametrize("category", ["configuration", "rejected", "transient", "internal", "x"])
def test_the_ledgers_default_actions_read_as_the_pages_own(category: str) -> None:
    action = page_action(failed(default_action(category, "INV-1"), category))

    assert action is not None and action.endswith("then press Retry.")
    assert action[0].isupper() and not CLI_COMMAND.search(action)


@pytest.mark.parametrize(
    ("action", "category", "expected"),
    [
        (
            "map it with `syncledger config map-account 42 CATEGORY CODE` (or `config map-tax`),"
            " then run `syncledger retry INV-1`",
            "configuration",
            MAP[0].upper() + MAP[1:] + ".",
        ),
        (None, "authentication", CATEGORY_ACTIONS["authentication"]),
        ("", "rate_limited", CATEGORY_ACTIONS["rate_limited"]),
        ("run `syncledger frobnicate INV-1`", "uncertain", CATEGORY_ACTIONS["uncertain"]),
        (None, None, "act on the reason, then press Retry"),
        (
            "change it back in OpenSolar, or cancel INV-1 in OpenSolar and issue a new invoice",
            "amendment",
            "change it back in OpenSolar, or cancel INV-1 in OpenSolar and issue a new invoice",
        ),
    ],
)
def test_a_failures_action_is_its_own_in_the_pages_words_or_its_categorys(
    action: str | None, category: str | None, expected: str
) -> None:
    said = page_action(failed(action, category))

    assert said is not None
    assert said.rstrip(".").lower() == expected.rstrip(".").lower()
    assert said[0].isupper() and said.endswith(".")
    assert not CLI_COMMAND.search(said)


def test_a_payment_blocked_by_its_invoice_is_told_to_fix_the_invoice_not_to_retry() -> None:
    row = dataclasses.replace(
        ROW,
        kind="payment",
        number="payment 3",
        status="Failed",
        blocked=True,
        category="blocked",
        error="waiting for invoice INV-9, which is Failed: Missing Ledger Account: ...",
        action="fix invoice INV-9 (map it with `syncledger config map-account ...`); ...",
    )

    assert page_action(row) == (
        "Fix invoice INV-9 first (open it to see how); this payment is sent automatically once "
        "the invoice is synced."
    )


@pytest.mark.parametrize("status", ["Synced", "Pending", "Not Attempted"])
def test_only_a_failed_document_has_something_to_do(status: str) -> None:
    assert page_action(dataclasses.replace(ROW, status=status, action="x")) is None


@pytest.mark.parametrize(
    ("fields", "label", "variant"),
    [
        ({"status": "Synced"}, "Synced", ""),
        (
            {"status": "Synced", "credit_note_id": "cn", "credited": "1000.00"},
            "Synced · credited",
            "credited",
        ),
        (
            {
                "status": "Synced",
                "credit_note_id": "cn",
                "credited": "600.00",
                "refund_due": "400.00",
            },
            "Synced · refund due",
            "refund-due",
        ),
        ({"status": "Synced", "refund_due": "0.00"}, "Synced", ""),
        ({"status": "Pending", "credit_note_id": "cn"}, "Pending", ""),
        ({"status": "Failed"}, "Failed", ""),
        ({"status": "Synced", "kind": "payment", "refund_due": "5.00"}, "Synced", ""),
    ],
)
def test_the_chip_says_credited_or_refund_due_while_the_status_stays_synced(
    fields: dict[str, Any], label: str, variant: str
) -> None:
    row = dataclasses.replace(ROW, **fields)

    assert chip_label(row) == (label, variant)
    html = chip(StatusView(row, None))
    assert f'data-status="{row.status}"' in html
    assert f'<span class="chip-label">{label}</span>' in html


def test_a_chip_is_focusable_and_described_by_its_error_and_what_to_do() -> None:
    row = failed("fix the mapping, then run `syncledger retry INV-1`")

    html = chip(StatusView(row, None))
    panel = chip(StatusView(row, None), "panel-tip")

    assert 'tabindex="0"' in html
    assert 'aria-describedby="tip-d1-text tip-d1-todo"' in html
    assert '<span class="tip-text" id="tip-d1-text">boom</span>' in html
    assert (
        '<span class="tip-todo" id="tip-d1-todo">To do: Ask an administrator to fix the account '
        "mapping, then press Retry.</span>"
    ) in html
    assert 'id="panel-tip-d1-text"' in panel and 'id="tip-d1' not in panel


def test_a_chip_without_anything_to_do_is_described_by_its_reason_alone() -> None:
    row = dataclasses.replace(ROW, status="Not Attempted")
    reason = "issued before the Xero connection (x); run `syncledger sync INV-1` to send it"

    html = chip(StatusView(row, reason))

    assert 'aria-describedby="tip-d1-text"' in html and "tip-todo" not in html
    assert "press Sync to send it" in html and "syncledger sync" not in html


def snapshot(*orgs: str) -> Snapshot:
    return Snapshot([], {}, [], list(orgs))


@pytest.mark.parametrize(
    ("orgs", "admin", "filters", "text"),
    [
        (
            (),
            False,
            Filters(),
            "No documents yet for this organisation — they appear here when OpenSolar sends them.",
        ),
        (
            (),
            True,
            Filters(org="44"),
            "No documents yet for organisation 44 — they appear here when OpenSolar sends them.",
        ),
        (
            (),
            True,
            Filters(),
            "No documents yet for any organisation — they appear here when OpenSolar sends them.",
        ),
        (("42",), False, Filters(status="Failed"), "No documents match these filters."),
        (("42",), True, Filters(project="9"), "No documents match these filters."),
    ],
)
def test_an_empty_table_says_whether_there_are_no_documents_or_the_filters_hide_them(
    orgs: tuple[str, ...], admin: bool, filters: Filters, text: str
) -> None:
    assert empty_text(snapshot(*orgs), session(admin), filters) == text


def test_notices_after_an_action_speak_of_the_page() -> None:
    assert notice_text(["INV-1 (invoice:1): retry requested"], []) == (
        "INV-1 (invoice:1): retry requested"
    )
    assert notice_text([], ["invoice:2 is Failed: use `syncledger retry`"]) == (
        "Refused: invoice:2 is Failed: press Retry"
    )
    assert notice_text([], []) == "Nothing to do."
