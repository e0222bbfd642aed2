"""Reading requests and writing the plain answers every handler shares: bodies read up to a
limit, urlencoded forms, the document id in a path, JSON errors, and the safe target of a
redirect after logging in."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

FORM_LIMIT = 64 * 1024
"""Bytes a form post may carry."""


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A JSON error answer: ``{"error": message, ...}``."""
    return JSONResponse({"error": message, **extra}, status_code=status)


def too_large_form() -> JSONResponse:
    """The answer to a form larger than ``FORM_LIMIT``."""
    return error(413, f"the form is larger than {FORM_LIMIT} bytes")


def wants_json(request: Request) -> bool:
    """True if the caller asked for JSON (the page's scripts do) rather than a redirect."""
    return "application/json" in request.headers.get("accept", "")


def safe_next(value: str | None) -> str:
    """A local path to go to after logging in (anything else: the page)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None if it is longer than ``limit`` bytes (read no further)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


async def read_form(request: Request) -> dict[str, str] | None:
    """An urlencoded form's fields (the last of each name), or None if the body is too long."""
    body = await read_body(request, FORM_LIMIT)
    if body is None:
        return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def doc_id(request: Request) -> str | None:
    """The document id in the path, normalised, or None if it is not a UUID."""
    raw = str(request.path_params.get("doc_id", ""))
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None
