"""The status table on a terminal: DETAIL wraps within the width and is never cut; a narrow
terminal puts it on lines of its own; counted nouns agree with their numbers."""

from __future__ import annotations

from domain.wording import counted
from projections.status import StatusRow, StatusView
from syncledger.present import status_table

ACTION = (
    "map it with `syncledger config map-account 42 incentives CODE`, then run "
    "`syncledger retry INV-00019`"
)


def view(number: str, customer: str = "Jane Citizen") -> StatusView:
    row = StatusRow(
        doc_id=f"id-{number}",
        org="42",
        kind="invoice",
        opensolar_id=number.removeprefix("INV-"),
        number=number,
        status="Failed",
        customer=customer,
        amount="9650.00",
        currency="AUD",
        error="Missing Ledger Account: no Xero account is mapped for line category 'incentives'",
        action=ACTION,
    )
    return StatusView(row=row, reason=None)


def words(text: str) -> str:
    return " ".join(text.split())


def test_without_a_width_each_document_is_one_whole_line():
    table = status_table([view("INV-00019"), view("INV-00020")], None).splitlines()
    assert len(table) == 3 and table[1].endswith(ACTION)


def test_detail_wraps_within_the_width_and_keeps_every_word():
    for width in (100, 140, 200):
        table = status_table([view("INV-00019")], width)
        assert all(len(line) <= width for line in table.splitlines()), table
        assert words(ACTION) in words(table) and "…" not in table


def test_a_narrow_terminal_puts_detail_under_the_row_and_cuts_long_names_instead():
    table = status_table([view("INV-00019", customer="A Very Long Customer Name Pty Ltd")], 72)
    lines = table.splitlines()
    assert all(len(line) <= 72 for line in lines), table
    assert lines[0].split()[-1] == "STATUS"  # no DETAIL column: it has lines of its own
    assert lines[2].startswith("    ") and words(ACTION) in words(table)


def test_counted_nouns():
    assert counted(1, "document") == "1 document"
    assert counted(0, "document") == "0 documents"
    assert counted(2, "credit note") == "2 credit notes"
    assert counted(3, "delivery", "deliveries") == "3 deliveries"
    assert counted(2186, "event") == "2186 events"
