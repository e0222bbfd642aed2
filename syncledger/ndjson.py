"""Reading OpenSolar changes as NDJSON: numbered lines, over-long lines skipped, and JSON that
was pretty-printed over several lines (or wrapped in an array) recognised as such, so the user
gets one error that says NDJSON is needed instead of one puzzling error per physical line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

MAX_LINE_BYTES = 1024 * 1024
MAX_BLOCK_LINES = 10_000
"""A pretty-printed value longer than this is not looked for: its lines are reported one by
one."""

NDJSON_HINT = (
    "ingest reads NDJSON: one change, a JSON object, per line; convert a pretty-printed file "
    "with `jq -c . FILE` (or `jq -c '.[]' FILE` for a JSON array)"
)


@dataclass(frozen=True)
class Line:
    """One line of input (``raw`` None: too long to read), or a pretty-printed block of lines
    ``number``..``last`` (``problem`` says so)."""

    number: int
    raw: bytes | None
    last: int | None = None
    problem: str | None = None


def read_lines(
    stream: IO[bytes], limit: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines of a byte stream; an over-long line is skipped and given as None."""
    number = 0
    while True:
        chunk = stream.readline(limit + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            while True:
                rest = stream.readline(limit)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, chunk


def _json(raw: bytes) -> object | None:
    try:
        return json.loads(raw)  # type: ignore[no-any-return]
    except (ValueError, RecursionError):
        return _INVALID


_INVALID = object()


def _opens_value(raw: bytes) -> bool:
    """A line that starts a JSON value without finishing it (``{``, ``[``, ``[{"a": 1},``)."""
    text = raw.strip()
    return text[:1] in (b"{", b"[") and _json(text) is _INVALID


def hint_for(raw: bytes) -> str | None:
    """The NDJSON hint for a line that looks like a piece of pretty-printed JSON or an array."""
    text = raw.strip()
    found = _json(text)
    if isinstance(found, list):
        return "a JSON array, not a change; " + NDJSON_HINT
    if found is _INVALID and (
        text[:1] in (b"[", b"]", b"}", b'"') or text.endswith((b",", b"{", b"[")) or text == b"{"
    ):
        return "this looks like part of pretty-printed JSON; " + NDJSON_HINT
    return None


def lines(stream: IO[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """The input as lines, with each pretty-printed JSON value over several lines given as one
    ``Line`` whose ``problem`` says NDJSON is needed."""
    pending: list[tuple[int, bytes]] = []
    size = 0
    source = read_lines(stream, limit)
    for number, raw in source:
        if pending:
            whole_line = raw is not None and isinstance(_json(raw), dict)
            if raw is None or whole_line or len(pending) >= MAX_BLOCK_LINES or size > limit:
                yield from _single(pending)
                pending, size = [], 0
                yield Line(number, raw)
                continue
            pending.append((number, raw))
            size += len(raw)
            if raw[:1] not in (b"}", b"]"):
                continue  # a pretty-printed value ends on an unindented closing line
            found = _json(b"".join(r for _, r in pending))
            if found is not _INVALID:
                first, last = pending[0][0], pending[-1][0]
                kind = "an array" if isinstance(found, list) else "one JSON value"
                yield Line(
                    first,
                    None,
                    last,
                    f"(line): lines {first}–{last} are {kind} pretty-printed over "
                    f"{last - first + 1} lines; {NDJSON_HINT}",
                )
                pending, size = [], 0
            continue
        if raw is not None and _opens_value(raw):
            pending, size = [(number, raw)], len(raw)
            continue
        yield Line(number, raw)
    yield from _single(pending)


def _single(pending: list[tuple[int, bytes]]) -> Iterator[Line]:
    for number, raw in pending:
        yield Line(number, raw)
