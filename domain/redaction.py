"""Redaction: anything that looks like a credential (bearer tokens, secrets, passwords,
authorization headers, credentials in URLs) is replaced by ``[redacted]`` before text is recorded
in the ledger or shown to anyone. Pure text functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"token|secret|passw|authori[sz]ation|api[_-]?key|credential|cookie|assertion|"
    r"code[_-]?verifier|private[_-]?key|bearer",
    re.IGNORECASE,
)
_SECRET_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\bbearer\s+[^\s\"',;]+"), f"Bearer {REDACTED}"),
    (
        re.compile(
            r"(?i)\b((?:access|refresh|id)[_-]?token|client[_-]?secret|code[_-]?verifier|"
            r"password|api[_-]?key|token)(\"?\s*[=:]\s*\"?)[^\s&\"',;]+"
        ),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), rf"\1{REDACTED}@"),
)


def redact_text(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``[redacted]``."""
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """Plain data with every secret-looking field and text redacted (tokens, secrets, passwords,
    authorization headers, credentials in URLs)."""
    if isinstance(value, Mapping):
        return {
            str(k): REDACTED if _SECRET_KEY.search(str(k)) and v not in (None, "") else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
