"""The domain's errors: every rule the domain enforces fails with one of these, before any event.

DomainError
├── ChangeError              an OpenSolar change that cannot be accepted (names each field)
├── ConfigurationError       an organisation setting that cannot be accepted
│   └── TenantSwitchError    connecting to another Xero organisation than the documents' one
├── MappingError             a document that cannot be mapped to Xero with the current settings
│   ├── MissingLedgerAccountError
│   └── MissingTaxRateMappingError
├── MoneyError               an invoice's money cannot agree with Xero's arithmetic (in money.py,
│                            beside the arithmetic)
├── DocumentNotFoundError    no document matches a reference
├── AmbiguousDocumentError   a reference matches documents in several organisations
├── NotConnectedError        the organisation has no Xero connection
└── InvalidRequestError      a command that does not apply to the document's current state
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error raised by the domain package."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a change: ``field`` is a dotted path into the change."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ChangeError(DomainError):
    """An OpenSolar change was rejected; ``errors`` names every field at fault."""

    def __init__(self, errors: list[FieldError], document: str | None = None) -> None:
        self.errors = tuple(errors)
        self.document = document
        where = f" ({document})" if document else ""
        super().__init__("; ".join(str(e) for e in self.errors) + where)


class ConfigurationError(DomainError):
    """An organisation setting was refused."""


class TenantSwitchError(ConfigurationError):
    """A connection would move an organisation to another Xero organisation unasked."""


class MappingError(DomainError):
    """A document cannot be turned into a Xero payload with the organisation's settings;
    ``categories`` and ``tax_rates`` name the mappings it lacks (if that is why)."""

    categories: tuple[str, ...] = ()
    tax_rates: tuple[str, ...] = ()


class MissingLedgerAccountError(MappingError):
    """A line category has no Xero account code mapped."""

    def __init__(self, category: str) -> None:
        self.category = category
        self.categories = (category,)
        super().__init__(
            f"Missing Ledger Account: no Xero account is mapped for line category '{category}'"
        )


class MissingTaxRateMappingError(MappingError):
    """A line's OpenSolar tax rate has no Xero TaxType mapped."""

    def __init__(self, tax_rate: str) -> None:
        self.tax_rate = tax_rate
        self.tax_rates = (tax_rate,)
        super().__init__(
            f"Missing Tax Rate Mapping: no Xero tax type is mapped for tax rate '{tax_rate}'"
        )


class DocumentNotFoundError(DomainError):
    """No document matches the reference given."""


class AmbiguousDocumentError(DomainError):
    """A reference matches documents in more than one organisation."""


class NotConnectedError(DomainError):
    """The organisation is not connected to Xero."""


class InvalidRequestError(DomainError):
    """A command does not apply to the document in its current state."""
