"""The Payment Requests page's own words: the ledger's reasons and actions are written for the
command line; ``page_words`` and ``page_action`` say them in terms of what the page offers
(Retry, Sync) or whom to ask, and ``chip_label`` names the Synced variants (credited, refund
due) without changing the status itself. Pure: text in, text out."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from domain.vocabulary import DocumentKind, FailureCategory, Status
from projections.status import StatusRow

CLI_COMMAND = re.compile(
    r"`|\bsyncledger (?:audit|config|connect|db|demo|disconnect|health|history|ingest|relay|"
    r"replay|retry|sandbox|serve|status|sync|users|webhook)\b"
)
"""A command-line instruction in a text: the page never shows one."""

ADMIN = "ask an administrator to"


def _connect(match: re.Match[str]) -> str:
    org = match.group(1).strip()
    return f"{ADMIN} connect {f'organisation {org}' if org else 'the organisation'} to Xero"


def _mappings(match: re.Match[str]) -> str:
    wanted = "a Xero account for the line category named in the reason"
    if "map-tax" in match.group(0).replace("(or `config map-tax`)", ""):
        wanted = "the Xero accounts and tax types the reason names"
    return f"{ADMIN} map {wanted}"


_PHRASES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(
            r"map it with (?:`syncledger config map-account[^`]*`(?: and )?)+"
            r"(?:`syncledger config map-tax[^`]*`(?: and )?)*(?: \(or `config map-tax`\))?"
        ),
        _mappings,
    ),
    (
        re.compile(r"map it with (?:`syncledger config map-tax[^`]*`(?: and )?)+"),
        f"{ADMIN} map a Xero tax type for the tax rate named in the reason",
    ),
    (re.compile(r"^fix the mapping\b"), f"{ADMIN} fix the account mapping"),
    (
        re.compile(r"fix the setting named in the reason \(`syncledger config \.\.\.`\)"),
        f"{ADMIN} fix the setting named in the reason",
    ),
    (
        re.compile(r"run `syncledger config payment-account[^`]*`"),
        f"{ADMIN} set the Xero account that receives payments",
    ),
    (
        re.compile(r"run `syncledger config number-suffix (\S+) on`"),
        ADMIN + r" turn on numbered reissues (NUMBER-2 …) for organisation \1",
    ),
    (
        re.compile(r"`syncledger audit reconcile ([^`]*)`"),
        ADMIN + r" reconcile organisation \1 with Xero",
    ),
    (re.compile(r" ?\(`syncledger health[^`]*`\)"), ""),
    (re.compile(r"(?:run|reconnect with) `syncledger connect ?([^`]*)`"), _connect),
    (re.compile(r"run `syncledger sync [^`]*` to send it"), "press Sync to send it"),
    (re.compile(r"run `syncledger sync ([^`]*)`"), r"press Sync on \1"),
    (re.compile(r"(?:(?:run|use) )?`syncledger retry[^`]*`"), "press Retry"),
)
"""Command-line instructions and how the page says them, most specific first."""

_OTHER_COMMAND = re.compile(r"(?:(?:run|use) )?`(?:syncledger |config )[^`]*`")
"""Any other command (said as a request to an administrator, so that none is ever shown)."""

CATEGORY_ACTIONS: dict[str, str] = {
    FailureCategory.CONFIGURATION: f"{ADMIN} fix the setting named in the reason, then press Retry",
    FailureCategory.REJECTED: (
        "correct what Xero's message names (in OpenSolar, or in Xero's settings), then press Retry"
    ),
    FailureCategory.AMENDMENT: (
        "change it back in OpenSolar, or cancel it there and issue a new one"
    ),
    FailureCategory.AUTHENTICATION: (
        f"{ADMIN} connect the organisation to Xero again, then press Retry"
    ),
    FailureCategory.TRANSIENT: "check that Xero answers, then press Retry",
    FailureCategory.UNCERTAIN: "check that Xero answers, then press Retry",
    FailureCategory.RATE_LIMITED: "Xero asked for a pause; press Retry in a minute",
    FailureCategory.DAILY_LIMIT: "Xero's daily limit is used up; press Retry tomorrow",
    FailureCategory.INTERNAL: "report the reason to whoever runs syncledger, then press Retry",
}
"""What to do about a failure of each category when its own action cannot be said here."""

_BLOCKED_BY = re.compile(r"^waiting for invoice (.+?), which is Failed")


def _known_phrases(text: str) -> str:
    for pattern, words in _PHRASES:
        text = pattern.sub(words, text)
    return text


def page_words(text: str) -> str:
    """A reason, error or action as the page says it: command-line instructions become the
    page's own buttons (Retry, Sync) or a request to an administrator."""
    text = _OTHER_COMMAND.sub(f"{ADMIN} do it", _known_phrases(text))
    return text.replace("`", "")


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def page_action(row: StatusRow) -> str | None:
    """What a person can do on this page about a Failed document (None for other statuses):
    the failure's own action in the page's words, or the usual one for its category."""
    if row.status != Status.FAILED:
        return None
    if row.blocked:
        found = _BLOCKED_BY.match(row.error or "")
        invoice = f"invoice {found.group(1)}" if found else "its invoice"
        return _sentence(
            f"fix {invoice} first (open it to see how); this payment is sent automatically "
            "once the invoice is synced"
        )
    text = _known_phrases(row.action or "")
    if not text.strip() or CLI_COMMAND.search(text):
        text = CATEGORY_ACTIONS.get(row.category or "", "act on the reason, then press Retry")
    return _sentence(text)


def positive(value: str | None) -> bool:
    try:
        return value is not None and Decimal(value) > 0
    except InvalidOperation:
        return False


def chip_label(row: StatusRow) -> tuple[str, str]:
    """The chip's text and variant: a Synced invoice cancelled with a credit note, or one whose
    customer is owed a refund, says so (its status stays Synced)."""
    if row.status == Status.SYNCED and row.kind == DocumentKind.INVOICE:
        if positive(row.refund_due):
            return f"{Status.SYNCED} · refund due", "refund-due"
        if row.credit_note_id:
            return f"{Status.SYNCED} · credited", "credited"
    return row.status, ""


def notice_text(done: Sequence[str], refused: Sequence[str]) -> str:
    """The page's notice after an action: what was done and what was refused, in its words."""
    lines = [*done, *(f"Refused: {r}" for r in refused)]
    return page_words(" · ".join(lines)) or "Nothing to do."
