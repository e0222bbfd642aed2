"""Events as the audit index writes them: moments as fixed-width UTC stamps, the kind and type
of an event, its one-line summary and its attributes as plain data, all redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.customer import Customer
from domain.describe import describe as describe_event
from domain.documents import Invoice, Payment
from domain.organisation import Organisation
from domain.redaction import redact, redact_text
from domain.vocabulary import DocumentKind, Operation

ORGANISATION = "organisation"
CUSTOMER = "customer"
KINDS: tuple[str, ...] = (
    DocumentKind.INVOICE.value,
    DocumentKind.PAYMENT.value,
    ORGANISATION,
    CUSTOMER,
)
"""The kinds of aggregate the index knows, as plain text (``click.Choice`` names enum members by
their Python name, so choices take these)."""
OPERATIONS: tuple[str, ...] = (
    Operation.INVOICE.value,
    Operation.CREDIT_NOTE.value,
    Operation.PAYMENT.value,
)
"""The operations whose first delivery is timed."""


def plain(value: Any) -> Any:
    """A value as plain JSON data (decimals as strings, dates as ISO text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


_SKIP = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


def event_fields(event: Any) -> dict[str, Any]:
    """An event's own attributes as plain data (what `history --json` shows)."""
    return {k: plain(v) for k, v in vars(event).items() if k not in _SKIP}


def event_data(event: Any) -> dict[str, Any]:
    """An event's own attributes as plain, redacted data (what the audit index keeps)."""
    result: dict[str, Any] = redact(event_fields(event))
    return result


def stamp(moment: datetime) -> str:
    """A moment as fixed-width UTC text, so that text order is time order in every database."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse_stamp(text: str) -> datetime:
    """The moment a ``stamp`` (or any ISO 8601 text; UTC when no offset) names."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def restamp(text: str | None) -> str | None:
    """ISO 8601 text (e.g. a call record's ``at``) as a ``stamp``; unreadable text as it is."""
    if not text:
        return None
    try:
        return stamp(parse_stamp(text))
    except ValueError:
        return text


def event_type(event: Any) -> str:
    """``Invoice.Issued`` and the like."""
    return type(event).__qualname__


def known_event_types() -> tuple[str, ...]:
    """Every event type the domain defines (``Invoice.Issued``, ``Organisation.Connected``...)."""
    names: set[str] = set()
    for cls in (Invoice, Payment, Organisation, Customer):
        for name in dir(cls):
            attribute = getattr(cls, name)
            if isinstance(attribute, type) and issubclass(attribute, Aggregate.Event):
                names.add(attribute.__qualname__)
    return tuple(sorted(n for n in names if not n.endswith((".Event", ".Created"))))


def kind_of(event: Any) -> str:
    """The kind of aggregate an event belongs to."""
    if isinstance(event, Invoice.Event):
        return DocumentKind.INVOICE
    if isinstance(event, Payment.Event):
        return DocumentKind.PAYMENT
    if isinstance(event, Organisation.Event):
        return ORGANISATION
    if isinstance(event, Customer.Event):
        return CUSTOMER
    return type(event).__qualname__.split(".", 1)[0].lower()


def describe(event: Any) -> str:
    """One line saying what an event means (redacted)."""
    return redact_text(describe_event(event))
