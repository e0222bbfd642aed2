"""The Contacts endpoints and Xero's contact rules (notes §1.1).

Names are unique among active contacts, compared case-insensitively, with Xero's message;
ContactNumber is unique; several contacts may share an email address. PUT only creates, POST on
the collection updates or creates, POST on one contact updates it (e.g. archives it). Documents
that name their contact by `Name` find it or create it here (`choose_contact`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from syncledger.sandbox import batch, wire
from syncledger.sandbox.call import Call
from syncledger.sandbox.errors import ApiError, ElementError
from syncledger.sandbox.exchange import Response, json_response, not_found
from syncledger.sandbox.model import Contact, Organisation, name_key
from syncledger.sandbox.query import select
from syncledger.sandbox.render import contact_balances, contact_json, empty_balances, envelope
from syncledger.sandbox.where import BOOL, DATE, GUID, STRING, Field

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STATUSES = frozenset({"ACTIVE", "ARCHIVED", "GDPRREQUEST"})
_TEXT_FIELDS = (
    ("FirstName", "first_name", 255),
    ("LastName", "last_name", 255),
    ("AccountNumber", "account_number", 50),
    ("TaxNumber", "tax_number", 50),
)


def _updated(contact: Contact) -> dt.datetime:
    return dt.datetime.fromtimestamp(contact.updated_at, tz=dt.UTC).replace(tzinfo=None)


FIELDS: dict[str, Field[Contact]] = {
    "contactid": Field(GUID, lambda c: c.contact_id),
    "name": Field(STRING, lambda c: c.name),
    "emailaddress": Field(STRING, lambda c: c.email),
    "contactnumber": Field(STRING, lambda c: c.contact_number),
    "accountnumber": Field(STRING, lambda c: c.account_number),
    "firstname": Field(STRING, lambda c: c.first_name),
    "lastname": Field(STRING, lambda c: c.last_name),
    "contactstatus": Field(STRING, lambda c: c.status),
    "status": Field(STRING, lambda c: c.status),
    "iscustomer": Field(BOOL, lambda c: c.is_customer),
    "issupplier": Field(BOOL, lambda c: c.is_supplier),
    "updateddateutc": Field(DATE, _updated),
}


def duplicate_name(name: str) -> str:
    """Xero's message when an active contact already has this name."""
    return (
        f"The contact name {name} is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    )


def duplicate_number(number: str) -> str:
    """The message when another contact already has this ContactNumber."""
    return (
        f"The contact number {number} is already assigned to another contact. "
        "The contact number must be unique across all contacts."
    )


def find_contact(org: Organisation, ident: str) -> Contact | None:
    """A contact by ContactID, or else by ContactNumber."""
    ident = ident.strip()
    if wire.is_guid(ident):
        return org.contacts.get(ident.lower())
    contact_id = org.contact_numbers.get(name_key(ident))
    return org.contacts.get(contact_id) if contact_id else None


def _text(raw: dict[str, Any], name: str, limit: int, errors: list[str]) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"{name} must be text.")
        return None
    if len(value) > limit:
        errors.append(f"{name} must be {limit} characters or fewer.")
    return value.strip()


def _check(org: Organisation, raw: dict[str, Any], current: Contact | None) -> dict[str, Any]:
    """Validate submitted fields against the rules; returns the changes to apply."""
    errors: list[str] = []
    changes: dict[str, Any] = {}
    name = _text(raw, "Name", 255, errors)
    if current is None and not name:
        errors.append("The contact name must be specified.")
    if name:
        changes["name"] = name
    status = raw.get("ContactStatus")
    if status is not None:
        if not isinstance(status, str) or status.upper() not in _STATUSES:
            errors.append(f"ContactStatus '{status}' is not valid.")
        else:
            changes["status"] = status.upper()
    final_name = changes.get("name", current.name if current else "")
    final_status = changes.get("status", current.status if current else "ACTIVE")
    if final_name and final_status == "ACTIVE":
        owner = org.active_names.get(name_key(final_name))
        if owner is not None and (current is None or owner != current.contact_id):
            errors.append(duplicate_name(final_name))
    number = _text(raw, "ContactNumber", 50, errors)
    if number:
        owner = org.contact_numbers.get(name_key(number))
        if owner is not None and (current is None or owner != current.contact_id):
            errors.append(duplicate_number(number))
        changes["contact_number"] = number
    email = _text(raw, "EmailAddress", 255, errors)
    if email is not None:
        if email and not _EMAIL.match(email):
            errors.append("Email address must be valid.")
        changes["email"] = email or None
    for json_name, attribute, limit in _TEXT_FIELDS:
        value = _text(raw, json_name, limit, errors)
        if value is not None:
            changes[attribute] = value or None
    for json_name, attribute in (("Addresses", "addresses"), ("Phones", "phones")):
        value = raw.get(json_name)
        if value is not None:
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                errors.append(f"{json_name} must be a list of objects.")
            else:
                changes[attribute] = [dict(v) for v in value]
    if errors:
        raise ElementError(list(dict.fromkeys(errors)))
    return changes


def _apply(org: Organisation, contact: Contact, changes: dict[str, Any], now: float) -> None:
    old_name_key = name_key(contact.name)
    if org.active_names.get(old_name_key) == contact.contact_id:
        del org.active_names[old_name_key]
    if contact.contact_number:
        org.contact_numbers.pop(name_key(contact.contact_number), None)
    for attribute, value in changes.items():
        setattr(contact, attribute, value)
    if contact.status == "ACTIVE":
        org.active_names[name_key(contact.name)] = contact.contact_id
    if contact.contact_number:
        org.contact_numbers[name_key(contact.contact_number)] = contact.contact_id
    contact.updated_at = now
    org.contacts[contact.contact_id] = contact


def create_contact(org: Organisation, raw: dict[str, Any], now: float) -> Contact:
    """Create a contact from submitted fields (raises ElementError)."""
    changes = _check(org, raw, None)
    contact = Contact(contact_id=str(uuid.uuid4()), name=changes["name"])
    _apply(org, contact, changes, now)
    return contact


def update_contact(org: Organisation, contact: Contact, raw: dict[str, Any], now: float) -> None:
    """Apply submitted fields to an existing contact (raises ElementError)."""
    changes = _check(org, raw, contact)
    _apply(org, contact, changes, now)


@dataclass
class ContactChoice:
    """The contact a document names: an existing one, or one to create once all is valid."""

    existing: Contact | None
    new_fields: dict[str, Any] | None

    def materialise(self, org: Organisation, now: float) -> Contact:
        """The chosen contact, creating it now if needed."""
        if self.existing is not None:
            return self.existing
        return create_contact(org, self.new_fields or {}, now)


def choose_contact(org: Organisation, raw: Any, errors: list[str]) -> ContactChoice | None:
    """Resolve a document's `Contact`: by ContactID (must exist), ContactNumber, or Name."""
    if not isinstance(raw, dict) or not raw:
        errors.append("A Contact must be specified for this type of transaction.")
        return None
    contact_id = raw.get("ContactID")
    if isinstance(contact_id, str) and contact_id.strip():
        contact = org.contacts.get(contact_id.strip().lower())
        if contact is None:
            errors.append(f"The contact with ID {contact_id} could not be found.")
            return None
        return ContactChoice(contact, None)
    number = raw.get("ContactNumber")
    if isinstance(number, str) and number.strip():
        contact_key = org.contact_numbers.get(name_key(number))
        if contact_key is not None:
            return ContactChoice(org.contacts[contact_key], None)
    name = raw.get("Name")
    if isinstance(name, str) and name.strip():
        contact_key = org.active_names.get(name_key(name))
        if contact_key is not None:
            return ContactChoice(org.contacts[contact_key], None)
        try:
            _check(org, raw, None)
        except ElementError as exc:
            errors.extend(exc.messages)
            return None
        return ContactChoice(None, dict(raw))
    errors.append("A Contact must be specified for this type of transaction.")
    return None


# handlers --------------------------------------------------------------------------------------
def list_contacts(call: Call, args: Sequence[str]) -> Response:
    """GET /Contacts."""
    org = call.org
    items = list(org.contacts.values())
    if call.request.flag("includeArchived") is not True:
        items = [c for c in items if c.status != "ARCHIVED"]
    ids = {i.lower() for i in call.request.list_param("IDs")}
    if ids:
        items = [c for c in items if c.contact_id in ids]
    term = (call.request.param("searchTerm") or "").strip().casefold()
    if term:
        items = [
            c
            for c in items
            if any(
                term in (value or "").casefold()
                for value in (c.name, c.first_name, c.last_name, c.contact_number, c.email)
            )
        ]
    chosen = select(call, items, FIELDS, "Contact", modified=lambda c: c.updated_at)
    summary = call.request.flag("summaryOnly") is True
    balances = {} if summary else contact_balances(org, call.today())
    rendered = [
        contact_json(c, balances.get(c.contact_id, empty_balances()), summary_only=summary)
        for c in chosen.items
    ]
    extra = {"pagination": chosen.pagination} if chosen.paged else {}
    return json_response(200, envelope("Contacts", rendered, **extra))


def get_contact(call: Call, args: Sequence[str]) -> Response:
    """GET /Contacts/{ContactID or ContactNumber}."""
    contact = find_contact(call.org, args[0])
    if contact is None:
        return not_found()
    balances = contact_balances(call.org, call.today()).get(contact.contact_id, empty_balances())
    return json_response(200, envelope("Contacts", [contact_json(contact, balances)]))


def put_contacts(call: Call, args: Sequence[str]) -> Response:
    """PUT /Contacts: create only."""
    items = batch.elements(call, "Contacts")

    def process(raw: dict[str, Any]) -> dict[str, Any]:
        return contact_json(create_contact(call.org, raw, call.now), empty_balances())

    return batch.run(call, "Contacts", "ContactID", items, process)


def post_contacts(call: Call, args: Sequence[str]) -> Response:
    """POST /Contacts: update the contact named by ContactID (or Name), else create."""
    items = batch.elements(call, "Contacts")

    def process(raw: dict[str, Any]) -> dict[str, Any]:
        contact: Contact | None = None
        contact_id = raw.get("ContactID")
        if isinstance(contact_id, str) and contact_id.strip():
            contact = call.org.contacts.get(contact_id.strip().lower())
            if contact is None:
                raise ElementError([f"The contact with ID {contact_id} could not be found."])
        elif isinstance(raw.get("Name"), str):
            found = call.org.active_names.get(name_key(raw["Name"]))
            contact = call.org.contacts.get(found) if found else None
        if contact is None:
            contact = create_contact(call.org, raw, call.now)
        else:
            update_contact(call.org, contact, raw, call.now)
        return contact_json(contact, empty_balances())

    return batch.run(call, "Contacts", "ContactID", items, process)


def post_contact(call: Call, args: Sequence[str]) -> Response:
    """POST /Contacts/{ContactID}: update one contact (e.g. archive it)."""
    contact = find_contact(call.org, args[0])
    if contact is None:
        raise ApiError(not_found())
    raw = batch.one_element(call, "Contacts")
    found = contact

    def process(element: dict[str, Any]) -> dict[str, Any]:
        update_contact(call.org, found, element, call.now)
        return contact_json(found, empty_balances())

    return batch.single(call, "Contacts", "ContactID", raw, process, contact.contact_id)
