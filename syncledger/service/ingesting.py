"""Ingesting changes: an NDJSON stream (a file, stdin) recorded batch by batch, or changes already
decoded (a webhook's JSON array) recorded in one transaction; every line or object that is not
recorded is reported with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from domain.errors import ChangeError, FieldError
from domain.opensolar import Change, parse_change, parse_change_object
from syncledger import ndjson
from syncledger.bootstrap import System
from syncledger.ndjson import MAX_LINE_BYTES


@dataclass(frozen=True)
class Rejection:
    """One input line that was not recorded, and why."""

    line: int
    reason: str


@dataclass
class IngestReport:
    """What an ingest did."""

    ingested: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"ingested {self.ingested}, duplicates {self.duplicates}, rejected {len(self.rejected)}"
        )


def parse_line(raw: bytes) -> Change:
    """Decode and parse one NDJSON line (raises ``ChangeError``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChangeError(
            [FieldError("(line)", f"not valid UTF-8 (byte {raw[exc.start]:#04x} at {exc.start})")]
        ) from None
    return parse_change(text)


def ingest(
    system: System,
    stream: IO[bytes],
    *,
    on_reject: Callable[[Rejection], None] | None = None,
    batch_size: int | None = None,
) -> IngestReport:
    """Record every valid change of an NDJSON stream, batch by batch; report the others."""
    size = batch_size or system.settings.batch_size
    report = IngestReport()
    batch: list[Change] = []

    def flush() -> None:
        if batch:
            result = system.ledger.ingest(batch)
            report.ingested += result.recorded
            report.duplicates += result.duplicates
            batch.clear()

    for line in ndjson.lines(stream):
        number, raw = line.number, line.raw
        if line.problem is not None:
            rejection = Rejection(number, line.problem)
        elif raw is None:
            rejection = Rejection(number, f"(line): too long (more than {MAX_LINE_BYTES} bytes)")
        elif not raw.strip():
            continue
        else:
            try:
                batch.append(parse_line(raw))
            except ChangeError as exc:
                hint = ndjson.hint_for(raw)
                rejection = Rejection(number, f"{exc}" + (f" ({hint})" if hint else ""))
            else:
                if len(batch) >= size:
                    flush()
                continue
        report.rejected.append(rejection)
        if on_reject is not None:
            on_reject(rejection)
    flush()
    return report


def ingest_objects(system: System, objects: Iterable[Any]) -> IngestReport:
    """Record already-decoded changes (e.g. a webhook's JSON array) in one transaction; each
    rejected one is reported with its index (from 0) as ``line`` and nothing of it is recorded."""
    report = IngestReport()
    batch: list[Change] = []
    for index, data in enumerate(objects):
        try:
            batch.append(parse_change_object(data))
        except ChangeError as exc:
            report.rejected.append(Rejection(index, str(exc)))
    if batch:
        result = system.ledger.ingest(batch)
        report.ingested, report.duplicates = result.recorded, result.duplicates
    return report
