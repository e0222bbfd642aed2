"""``python -m bench.memory [--sizes 100MB,1GB] [--keep DIR]``: does memory stay flat as the
input grows? It uses nothing else from ``bench`` but ``bench.peak``.

For each size it writes an NDJSON file of OpenSolar changes of about that size in a temporary
folder (invoices with many lines, and payments), runs ``syncledger ingest FILE`` in a subprocess
against a fresh SQLite ledger whose organisation is connected (so every invoice also asks for a
delivery and the outbox has work), then ``syncledger replay`` (every projection dropped and
rebuilt from that ledger's log), and reports each process's peak resident memory, read from the
kernel when it exits (``wait4``'s ``ru_maxrss``: the high-water mark, not a sample; through
``bench.peak``'s launcher, so this process's own size does not count). A command
that streams its input keeps the same peak whatever the size; one that holds it grows with it.

Prints one markdown table with the machine it ran on. The full run (100 MB and 1 GB) takes tens
of minutes and a few GB of disk; the test suite runs ``measure`` on a few megabytes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.peak import run as peak_run

MIB = 1024 * 1024
LINES_PER_INVOICE = 40
BIN = Path(sys.executable).parent / "syncledger"


@dataclass(frozen=True)
class Row:
    """One measured command."""

    command: str
    input_bytes: int
    changes: int
    events: int
    seconds: float
    peak_rss: int
    """bytes"""
    exit_code: int


def parse_size(text: str) -> int:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*", text.upper())
    if not found:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 100MB, 1GB)")
    number, unit = found.groups()
    return int(float(number) * {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB}[unit])


def human(size: float) -> str:
    sign, size = ("-" if size < 0 else ""), abs(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{sign}{size:.0f} {unit}" if unit == "B" else f"{sign}{size:.1f} {unit}"
        size /= 1024
    return f"{sign}{size:.1f} GiB"


def write_changes(path: Path, target: int) -> int:
    """Write about ``target`` bytes of changes; return how many."""
    lines = [
        {
            "category": "sales" if n % 3 else "discounts",
            "description": f"Panel string {n}: 6.6 kW with optimisers and mounting kit",
            "quantity": 1 + n % 3,
            "unit_amount": f"{100 + n}.50",
            "tax_rate": "GST",
        }
        for n in range(LINES_PER_INVOICE)
    ]
    written = changes = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            n = changes
            if n % 5 == 4:
                change = {
                    "event_id": f"evt-pay-{n}",
                    "timestamp": "2026-11-22T10:00:00Z",
                    "org_id": 42,
                    "model": "Payment",
                    "model_id": n,
                    "event": "UPDATE",
                    "fields": {
                        "invoice_id": n - 1,
                        "amount": "100.00",
                        "currency": "AUD",
                        "status": "paid",
                        "paid_date": "2026-11-22",
                        "reference": f"Card {n % 10000:04d}",
                    },
                }
            else:
                change = {
                    "event_id": f"evt-inv-{n}",
                    "timestamp": "2026-11-20T09:30:00Z",
                    "org_id": 42,
                    "model": "Invoice",
                    "model_id": n,
                    "event": "UPDATE",
                    "fields": {
                        "invoice_number": f"INV-{n:08d}",
                        "status": "sent",
                        "project_id": n % 997,
                        "issued_date": "2026-11-20",
                        "due_date": "2026-12-20",
                        "currency": "AUD",
                        "amounts_include_tax": True,
                        "customer": {
                            "id": n % 5000,
                            "name": f"Customer {n % 5000}",
                            "email": f"customer{n % 5000}@example.com",
                        },
                        "line_items": lines,
                    },
                }
            text = json.dumps(change, separators=(",", ":")) + "\n"
            out.write(text)
            written += len(text)
            changes += 1
    return changes


def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, float, int, str]:
    """Run ``syncledger ARGS``; return (exit code, seconds, peak RSS in bytes, stdout)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out:
        code, peak = peak_run(
            [str(BIN), *args], stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=cwd
        )
        out.seek(0)
        printed = out.read().decode(errors="replace")
    return code, time.monotonic() - started, peak, printed


def count_events(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def measure(sizes: list[int], folder: Path, echo=lambda text: None) -> list[Row]:
    """Ingest then replay a generated input of each size; one row per command and size."""
    rows: list[Row] = []
    for size in sizes:
        work = folder / f"size-{size}"
        work.mkdir(parents=True, exist_ok=True)
        db = work / "ledger.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLEDGER_")}
        env["SYNCLEDGER_DB"] = str(db)
        source = work / "changes.ndjson"
        echo(f"writing {human(size)} of changes")
        changes = write_changes(source, size)
        input_bytes = source.stat().st_size
        # nothing here calls Xero: the URL answers nothing, so the connection is not checked
        connect = ["connect", "42", "--xero-url", "http://127.0.0.1:9", "--tenant-id", "t"]
        code, *_ = run([*connect, "--no-check", "--at", "2026-01-01T00:00:00Z"], env, work)
        if code != 0:
            raise RuntimeError("syncledger connect failed")
        echo(f"ingesting {changes} changes")
        code, seconds, peak, printed = run(["ingest", str(source)], env, work)
        events = count_events(db)
        rows.append(Row("ingest", input_bytes, changes, events, seconds, peak, code))
        echo(f"  {printed.strip()} in {seconds:.0f} s, peak {human(peak)}")
        source.unlink()
        stored = sum(p.stat().st_size for p in work.glob("ledger.db*") if p.is_file())
        echo(f"replaying {events} events")
        code, seconds, peak, _ = run(["replay", "--projection", "all"], env, work)
        rows.append(Row("replay", stored, changes, events, seconds, peak, code))
        echo(f"  in {seconds:.0f} s, peak {human(peak)}")
        shutil.rmtree(work)
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        text = Path("/proc/cpuinfo").read_text()
        found = re.search(r"model name\s*:\s*(.+)", text)
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    memory = ""
    try:
        found = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
        memory = f", {int(found.group(1)) / 1024 / 1024:.0f} GiB RAM" if found else ""
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


def table(rows: list[Row]) -> str:
    out = [
        "| command | input | changes | events in the log | time | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        what = "NDJSON file" if row.command == "ingest" else "SQLite ledger"
        status = "" if row.exit_code == 0 else f" (exit {row.exit_code})"
        out.append(
            f"| `syncledger {row.command}`{status} | {human(row.input_bytes)} {what} | "
            f"{row.changes:,} | {row.events:,} | {row.seconds:.1f} s | {human(row.peak_rss)} |"
        )
    for command in ("ingest", "replay"):
        mine = [r for r in rows if r.command == command]
        if len(mine) >= 2:
            small, large = mine[0], mine[-1]
            out.append(
                f"\n`{command}`: input ×{large.input_bytes / small.input_bytes:.1f}, "
                f"peak RSS ×{large.peak_rss / small.peak_rss:.2f} "
                f"({human(large.peak_rss - small.peak_rss)})"
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument(
        "--sizes",
        default="100MB,1GB",
        help="input sizes to compare, comma-separated (default: 100MB,1GB)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep it")
    options = parser.parse_args(argv)
    sizes = [parse_size(s) for s in options.sizes.split(",")]
    folder = options.keep or Path(tempfile.mkdtemp(prefix="syncledger-memory-"))
    try:
        rows = measure(sizes, folder, echo=lambda text: print(text, file=sys.stderr, flush=True))
    finally:
        if options.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"Peak memory of syncledger ingest and replay by input size\n\nMachine: {machine()}\n")
    print(table(rows))
    return 0 if all(r.exit_code == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
