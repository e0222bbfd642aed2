"""Money arithmetic as Xero does it: 2 dp half-up amounts and tax rounded per line.

"Xero calculates tax on a per line basis, rounding to two decimal places, and then sums the tax
totals of each line" (notes §1.7). `line_tax` gives one line's tax for the three
`LineAmountTypes`; `document_totals` sums lines into SubTotal, TotalTax and Total.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

EXCLUSIVE = "Exclusive"
INCLUSIVE = "Inclusive"
NO_TAX = "NoTax"
LINE_AMOUNT_TYPES = (EXCLUSIVE, INCLUSIVE, NO_TAX)


def round_money(value: Decimal) -> Decimal:
    """Round to cents, half away from zero (Xero's ROUND_HALF_UP)."""
    result = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return result if not result.is_zero() else ZERO


def round_places(value: Decimal, places: int) -> Decimal:
    """Round half-up to `places` decimal places (unit amounts use 2 or 4)."""
    result = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return result if not result.is_zero() else abs(result)


def line_tax(line_amount: Decimal, rate_percent: Decimal, line_amount_types: str) -> Decimal:
    """One line's tax, rounded to cents.

    Exclusive: amount × rate. Inclusive: amount × rate / (1 + rate). NoTax: zero.
    """
    if line_amount_types == NO_TAX or rate_percent.is_zero():
        return ZERO
    rate = rate_percent / HUNDRED
    if line_amount_types == INCLUSIVE:
        return round_money(line_amount * rate / (1 + rate))
    return round_money(line_amount * rate)


def document_totals(
    lines: Iterable[tuple[Decimal, Decimal]], line_amount_types: str
) -> tuple[Decimal, Decimal, Decimal]:
    """(SubTotal, TotalTax, Total) from (LineAmount, TaxAmount) pairs.

    For Inclusive documents the line amounts already contain the tax, so SubTotal is their sum
    less the tax.
    """
    amount_sum = ZERO
    tax_sum = ZERO
    for line_amount, tax_amount in lines:
        amount_sum += line_amount
        tax_sum += tax_amount
    if line_amount_types == INCLUSIVE:
        return round_money(amount_sum - tax_sum), round_money(tax_sum), round_money(amount_sum)
    return (
        round_money(amount_sum),
        round_money(tax_sum),
        round_money(amount_sum + tax_sum),
    )
