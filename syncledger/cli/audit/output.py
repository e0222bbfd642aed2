"""How audit answers are written: a table for the terminal, CSV with a header row for
spreadsheets, or one JSON document; each streamed row by row so a long answer starts at once and
never sits whole in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.redaction import redact

TABLE = "table"
CSV = "csv"
JSON = "json"
SAMPLE_ROWS = 200
MAX_CELL = 60

Write = Callable[[str], None]


def _clean(rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for row in rows:
        cleaned: Mapping[str, Any] = redact(row)
        yield cleaned


@dataclass(frozen=True)
class Column:
    """One column: its title on a terminal, its key in CSV and JSON."""

    title: str
    key: str
    max_width: int = MAX_CELL
    right: bool = False


def cell(value: Any) -> str:
    """A value as text for a table or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def write_table(
    write: Write,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    empty: str = "nothing found",
) -> int:
    """Rows as an aligned table; widths come from the first rows, longer cells are cut.
    Returns how many rows were written."""
    iterator = _clean(rows)
    sample: list[Mapping[str, Any]] = []
    for row in iterator:
        sample.append(row)
        if len(sample) >= SAMPLE_ROWS:
            break
    if not sample:
        write(empty)
        return 0
    widths = {
        c.key: min(c.max_width, max(len(c.title), *(len(cell(r.get(c.key))) for r in sample)))
        for c in columns
    }

    def line(values: Mapping[str, str]) -> str:
        cells = []
        for c in columns:
            text = values[c.key].replace("\n", " ")
            width = widths[c.key]
            if len(text) > width:
                text = text[: width - 1] + "…"
            cells.append(text.rjust(width) if c.right else text.ljust(width))
        return "  ".join(cells).rstrip()

    write(line({c.key: c.title for c in columns}))
    count = 0

    def all_rows() -> Iterator[Mapping[str, Any]]:
        yield from sample
        yield from iterator

    for row in all_rows():
        write(line({c.key: cell(row.get(c.key)) for c in columns}))
        count += 1
    return count


def write_csv(write: Write, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> int:
    """Rows as CSV with a header row of column keys. Returns how many rows were written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> None:
        text = buffer.getvalue()
        if text:
            write(text.removesuffix("\n"))
        buffer.seek(0)
        buffer.truncate()

    writer.writerow([c.key for c in columns])
    flush()
    count = 0
    for row in _clean(rows):
        writer.writerow([cell(row.get(c.key)) for c in columns])
        count += 1
        if count % 500 == 0:
            flush()
    flush()
    return count


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def write_json(
    write: Write,
    head: Mapping[str, Any],
    key: str,
    rows: Iterable[Mapping[str, Any]],
    tail: Callable[[], Mapping[str, Any]] | None = None,
) -> int:
    """One JSON object: ``head``'s fields, then ``key`` holding the rows as a list (streamed),
    then the fields ``tail`` gives once the rows are written. Returns how many rows."""
    parts = [f"{_dump(k)}: {_dump(v)}" for k, v in redact(dict(head)).items()]
    write("{" + "".join(f"{p}, " for p in parts) + f"{_dump(key)}: [")
    count = 0
    for row in _clean(rows):
        write(("  " if count == 0 else ", ") + _dump(row))
        count += 1
    closing = "]"
    if tail is not None:
        closing += "".join(f", {_dump(k)}: {_dump(v)}" for k, v in redact(dict(tail())).items())
    write(closing + "}")
    return count
