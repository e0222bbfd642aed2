"""Xero's errors mapped to the retry policy's failure categories, as a table, and a check that
every kind of Xero error has its row."""

from __future__ import annotations

import pytest

import outbox.xero
from outbox.retry import CATEGORIES, category_of
from outbox.xero import (
    XeroAuthError,
    XeroDuplicateNumberError,
    XeroError,
    XeroNotFoundError,
    XeroRateLimitError,
    XeroRejectedError,
    XeroTransientError,
)

TABLE = [
    (XeroRateLimitError("429", 17.0, "minute"), "rate_limited", 17.0),
    (XeroRateLimitError("429", 3600.0, "day"), "daily_limit", 3600.0),
    (XeroTransientError("503", 503, uncertain=False), "transient", None),
    (XeroTransientError("timed out", None, uncertain=True), "uncertain", None),
    (XeroAuthError("403", 403), "authentication", None),
    (XeroRejectedError(["Account code '999' is not valid"]), "rejected", None),
    (XeroDuplicateNumberError(["Invoice # must be unique."]), "rejected", None),
    (XeroNotFoundError("404", 404), "rejected", None),
]


@pytest.mark.parametrize(("error", "category", "retry_after"), TABLE)
def test_each_xero_error_has_its_failure_category(error, category, retry_after):
    assert category_of(error) == (category, retry_after)
    assert category in CATEGORIES


def test_every_kind_of_xero_error_is_in_the_table():
    kinds = {
        value
        for value in vars(outbox.xero).values()
        if isinstance(value, type) and issubclass(value, XeroError) and value is not XeroError
    }

    assert kinds <= {type(error) for error, _, _ in TABLE}
