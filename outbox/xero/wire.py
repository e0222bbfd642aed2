"""Xero JSON on the wire: canonical bodies with exact decimals, and deterministic idempotency keys.

Bodies are written by ``dumps`` (numbers from decimals, keys sorted, so the same payload always
gives the same bytes) and read with ``parse_float=Decimal``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

MAX_KEY_LENGTH = 128


def dumps(value: Any) -> str:
    """Canonical JSON: keys sorted, no spaces, ``Decimal`` as a plain number."""
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{dumps(v)}" for k, v in sorted(value.items()))
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, bool | int | str) or value is None:
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} to Xero JSON")


def idempotency_key(
    tenant_id: str, operation: str, document: UUID | str, generation: str, body: Any
) -> str:
    """A deterministic ``Idempotency-Key`` for one delivery attempt of one payload (≤128 chars)."""
    digest = hashlib.sha256(
        "\x1f".join((tenant_id, operation, str(document), generation, dumps(body))).encode()
    ).hexdigest()
    return f"syncledger-{operation}-{digest}"[:MAX_KEY_LENGTH]


def loads(text: str) -> Any:
    """Parse a Xero JSON body with decimals for numbers."""
    return json.loads(text, parse_float=Decimal)
