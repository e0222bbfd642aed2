"""The period lock date: the one rule and the one message for dates in a closed period.

Notes §1.3: documents dated on or before the organisation's `PeriodLockDate` cannot be created,
edited, voided, deleted or paid, and payments and allocations dated on or before it can be neither
made nor deleted; Xero answers 400 with a validation message naming the lock date.
"""

from __future__ import annotations

import datetime as dt

from syncledger.sandbox.errors import ElementError
from syncledger.sandbox.model import Organisation


def lock_message(lock: dt.date) -> str:
    """Xero's validation message for a date in a locked period."""
    return f"The document date cannot be on or before the period lock date ({lock.isoformat()})."


def closed(org: Organisation, day: dt.date | None, errors: list[str]) -> None:
    """Add the lock message to `errors` when `day` is in a locked period."""
    if day is not None and org.period_lock_date is not None and org.locked(day):
        errors.append(lock_message(org.period_lock_date))


def refuse_closed(org: Organisation, day: dt.date | None) -> None:
    """Raise ElementError with the lock message when `day` is in a locked period."""
    errors: list[str] = []
    closed(org, day, errors)
    if errors:
        raise ElementError(errors)
