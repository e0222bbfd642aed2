"""OAuth scopes: the ones the identity service grants and which ones each endpoint needs.

Both the broad pre-2026 scopes (`accounting.transactions`, ...) and the granular ones
(`accounting.invoices`, `accounting.payments`, ...) are accepted (notes §5). Each endpoint needs
any one of a set: invoices and credit notes `accounting.invoices` or `accounting.transactions`,
payments `accounting.payments` or `accounting.transactions`, contacts `accounting.contacts`,
accounts, tax rates, currencies and the organisation `accounting.settings`; reads also accept
`.read`.
"""

from __future__ import annotations

INVOICES_READ = frozenset(
    {
        "accounting.invoices",
        "accounting.invoices.read",
        "accounting.transactions",
        "accounting.transactions.read",
    }
)
INVOICES_WRITE = frozenset({"accounting.invoices", "accounting.transactions"})
PAYMENTS_READ = frozenset(
    {
        "accounting.payments",
        "accounting.payments.read",
        "accounting.transactions",
        "accounting.transactions.read",
    }
)
PAYMENTS_WRITE = frozenset({"accounting.payments", "accounting.transactions"})
CONTACTS_READ = frozenset({"accounting.contacts", "accounting.contacts.read"})
CONTACTS_WRITE = frozenset({"accounting.contacts"})
SETTINGS_READ = frozenset({"accounting.settings", "accounting.settings.read"})
SETTINGS_WRITE = frozenset({"accounting.settings"})

KNOWN = frozenset(
    INVOICES_READ
    | PAYMENTS_READ
    | CONTACTS_READ
    | SETTINGS_READ
    | {
        "offline_access",
        "openid",
        "profile",
        "email",
        "accounting.attachments",
        "accounting.attachments.read",
        "accounting.banktransactions",
        "accounting.banktransactions.read",
        "accounting.manualjournals",
        "accounting.manualjournals.read",
        "accounting.journals.read",
        "accounting.budgets.read",
        "accounting.reports.read",
        "paymentservices",
    }
)
"""Every scope the sandbox's identity service recognises."""

CUSTOM_CONNECTION_DEFAULT = (
    "accounting.invoices accounting.payments accounting.contacts accounting.settings"
)
"""Scopes a client-credentials (custom connection) token gets when none are requested."""


def parse(text: str) -> list[str]:
    """Scopes from a space-separated string, in order, without duplicates."""
    return list(dict.fromkeys(text.split()))
