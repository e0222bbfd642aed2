"""The change endpoint's rules, apart from HTTP: decoding a request body into changes, telling
which organisation a request speaks for, and checking every change against the OpenSolar format
(``domain.opensolar``) and against that organisation.

A request is one change object or a JSON array of them. Each change is checked on its own: the
valid ones are recorded (the project rule is "never lose the rest of a batch") and each rejected
one is reported with its index, the field at fault and why. Nothing of a rejected change is
recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.errors import ChangeError
from domain.opensolar import decode_json, parse_change_object
from syncledger.web.errors import WebError

SECRET_HEADER = "X-Syncledger-Secret"  # noqa: S105 (a header name)
SIGNATURE_HEADER = "X-Syncledger-Signature"
ORG_HEADER = "X-Syncledger-Org"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """Why one change (or the whole body, when ``index`` is None) was refused."""

    index: int | None
    field: str
    message: str
    document: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field": self.field,
            "message": self.message,
            "document": self.document,
        }


class BodyError(WebError):
    """The body is not a change or an array of changes at all."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(None, "(body)", message)


@dataclass
class Checked:
    """The changes of one request, sorted into those to record and those refused."""

    valid: list[Any] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def decode_body(body: bytes) -> list[Any]:
    """The changes of a request body: a JSON object or array, numbers read as decimals."""
    if not body.strip():
        raise BodyError("empty body: send a change object or an array of them")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BodyError(f"not valid UTF-8 (byte {body[exc.start]:#04x} at {exc.start})") from None
    try:
        data = decode_json(text)
    except ChangeError as exc:
        raise BodyError("; ".join(e.message for e in exc.errors)) from None
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list):
        return data
    raise BodyError("must be a change object or a JSON array of change objects")


def org_of(items: Sequence[Any]) -> str | None:
    """The one organisation every change names (``org_id``), or None if they name none or
    several."""
    found: set[str] = set()
    for item in items:
        if isinstance(item, Mapping):
            value = item.get("org_id")
            if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
                found.add(str(value).strip())
    return found.pop() if len(found) == 1 else None


def check(items: Sequence[Any], org: str) -> Checked:
    """Validate each change and make sure it belongs to ``org``."""
    checked = Checked()
    for index, item in enumerate(items):
        try:
            change = parse_change_object(item)
        except ChangeError as exc:
            checked.problems.extend(
                Problem(index, e.field, e.message, exc.document) for e in exc.errors
            )
            continue
        if change.org_id != org:
            checked.problems.append(
                Problem(
                    index,
                    "org_id",
                    f"belongs to organisation {change.org_id}, but this request is "
                    f"authenticated for organisation {org}",
                    change.reference,
                )
            )
            continue
        checked.valid.append(item)
    return checked


def rejected_count(problems: Sequence[Problem]) -> int:
    """How many changes the problems are about."""
    return len({p.index for p in problems if p.index is not None})
