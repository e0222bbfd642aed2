"""Money as Xero computes it: an invoice's total from its lines, tax rounded per line, and the
rounding line that makes Xero's total equal OpenSolar's own.

Xero rounds each line to cents, computes each line's tax from its tax rate and rounds that to
cents, and sums (notes §1.7). OpenSolar may compute tax on the total instead, and so state a total
a few cents away. When the change states its total, ``rounding`` gives the line (on the
organisation's rounding account, at a zero tax rate) that closes the gap, or a ``MoneyError`` when
the gap is more than rounding can explain. Pure: tax rates and account defaults are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import DomainError
from domain.opensolar import InvoiceFields

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
ROUNDING_PER_LINE = Decimal("0.01")
"""How far per-line and per-total tax rounding can drift apart, per taxed line (half a cent each
way, rounded up)."""


class MoneyError(DomainError):
    """An invoice's money cannot be made to agree with Xero's arithmetic."""


def cents(value: Decimal) -> Decimal:
    """Round to cents, half up, as Xero does."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def amount_of(value: object) -> Decimal | None:
    """An amount from Xero's JSON (a number or numeric text) in cents, or None if it is none."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return cents(Decimal(str(value)))
    except ArithmeticError:
        return None


@dataclass(frozen=True)
class TaxTable:
    """What Xero's arithmetic needs of an organisation: each tax type's rate (percent) and
    each account's default tax type (used when a line names none)."""

    rates: Mapping[str, Decimal]
    account_tax: Mapping[str, str]

    def rate(self, tax_type: str | None, account: str | None) -> Decimal | None:
        """The rate a line is taxed at, or None if unknown."""
        chosen = tax_type or (self.account_tax.get(account.casefold()) if account else None)
        if chosen is None:
            return None
        return self.rates.get(chosen.upper())


@dataclass(frozen=True)
class PricedLine:
    """One line as it is sent: its account and tax type after mapping."""

    quantity: Decimal
    unit_amount: Decimal
    account: str | None
    tax_type: str | None

    @property
    def amount(self) -> Decimal:
        return cents(self.quantity * self.unit_amount)


def xero_total(lines: list[PricedLine], inclusive: bool, taxes: TaxTable | None) -> Decimal:
    """The total Xero will compute for these lines (tax included); raises ``MoneyError`` when a
    tax-exclusive line's rate is unknown."""
    total = ZERO
    for line in lines:
        amount = line.amount
        if inclusive:
            total += amount
            continue
        rate = taxes.rate(line.tax_type, line.account) if taxes is not None else None
        if rate is None:
            raise MoneyError(
                f"no tax rate is known in Xero for tax type {line.tax_type or '(account default)'}"
                f" on account {line.account}"
            )
        total += amount + cents(amount * rate / HUNDRED)
    return total


@dataclass(frozen=True)
class Rounding:
    """A rounding line to add: ``amount`` on ``account`` at the zero-rate ``tax_type``."""

    amount: Decimal
    account: str
    tax_type: str | None


def rounding(
    fields: InvoiceFields,
    lines: list[PricedLine],
    taxes: TaxTable | None,
    account: str,
) -> Rounding | None:
    """The rounding line that makes Xero's total equal OpenSolar's stated total, None when they
    already agree (or no total is stated); ``MoneyError`` when they are further apart than
    per-line rounding explains, or the rounding account would be taxed."""
    stated = fields.stated_total
    if stated is None:
        return None
    computed = xero_total(lines, fields.amounts_include_tax, taxes)
    gap = stated - computed
    if gap == 0:
        return None
    taxed_lines = max(1, len(lines))
    if abs(gap) > ROUNDING_PER_LINE * taxed_lines:
        raise MoneyError(
            f"OpenSolar's total {stated:,.2f} differs from the total Xero computes from the "
            f"lines ({computed:,.2f}) by {gap:,.2f}, more than tax rounding explains"
        )
    tax_type = taxes.account_tax.get(account.casefold()) if taxes is not None else None
    rate = taxes.rate(tax_type, account) if taxes is not None else None
    if not fields.amounts_include_tax and rate is not None and rate != 0:
        raise MoneyError(
            f"the rounding account {account} is taxed by default ({tax_type}, {rate}%): a "
            "rounding line on it would not close the gap"
        )
    return Rounding(gap, account, tax_type)
