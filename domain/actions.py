"""What a person can do about a failure, when the failure itself did not say (events recorded
before failures carried their action, and categories whose action is always the same)."""

from __future__ import annotations

from domain.vocabulary import FailureCategory


def default_action(category: str, reference: str) -> str:
    """The action shown beside a failure of ``category`` on the document ``reference``."""
    retry = f"`syncledger retry {reference}`"
    if category == FailureCategory.CONFIGURATION:
        return f"fix the setting named in the reason (`syncledger config ...`), then run {retry}"
    if category == FailureCategory.REJECTED:
        return (
            "correct what Xero's message names (in OpenSolar, or in Xero's settings), then run "
            f"{retry}"
        )
    if category in (FailureCategory.TRANSIENT, FailureCategory.UNCERTAIN):
        return f"check that Xero answers (`syncledger health`), then run {retry}"
    if category == FailureCategory.INTERNAL:
        return f"report the reason to whoever runs syncledger, then run {retry}"
    return f"act on the reason above, then run {retry}"
