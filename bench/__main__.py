"""``python -m bench [--quick]``: run every benchmark on SQLite and, when reachable, PostgreSQL,
and print one markdown table with the machine's description (progress goes to stderr).

``--quick`` scales every size down (and, for the throughput and backfill rows only, Xero's
minute window) so the whole run takes under two minutes: a smoke test that asserts nothing about
speed and exits 0 when every benchmark ran. The full run takes about 50 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import backfill, ingest, latency, projections, throughput
from bench.backends import POSTGRES, SQLITE, Backend, postgres_problem, postgres_server
from bench.backends import postgres_version as server_version
from bench.machine import describe, load_now
from bench.report import Row, notes, table

Benchmark = Callable[[Backend, bool, Path, Callable[[str], None]], list[Row]]
BENCHMARKS: dict[str, Benchmark] = {
    "ingest": ingest.run,
    "projections": projections.run,
    "latency": latency.run,
    "throughput": throughput.run,
    "backfill": backfill.run,
}
ORDER = (
    "ingest rate",
    "catch-up: status projection",
    "catch-up: outbox writer",
    "replay (all projections)",
    "idle latency",
    "app-wide throughput",
    "backfill",
    "query: `status --org X --status failed`",
    "query: `history DOC`",
)


def _rank(row: Row) -> tuple[int, int]:
    figure = next((i for i, f in enumerate(ORDER) if row.figure.startswith(f)), len(ORDER))
    return figure, 0 if row.backend == "SQLite" else 1


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke test)")
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help=f"run only these benchmarks ({', '.join(BENCHMARKS)})",
    )
    parser.add_argument(
        "--backend", choices=(SQLITE, POSTGRES, "all"), default="all", help="which backends"
    )
    parser.add_argument("--out", metavar="FILE", help="also write the table (markdown) here")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument(
        "--memory",
        metavar="SIZES",
        help="afterwards, also run bench.memory (peak memory by input size, its own table) "
        "with these sizes, e.g. 100MB,1GB",
    )
    args = parser.parse_args(argv)

    names = list(BENCHMARKS) if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    folder = Path(tempfile.mkdtemp(prefix="syncledger-bench-"))
    kinds = [SQLITE, POSTGRES] if args.backend == "all" else [args.backend]
    server = postgres_server()
    problem = postgres_problem(server) if POSTGRES in kinds else None
    backends = [Backend(SQLITE, folder)] if SQLITE in kinds else []
    if POSTGRES in kinds:
        if problem is None:
            backends.append(Backend(POSTGRES, folder, server))
        else:
            log(f"PostgreSQL rows skipped: {problem}")
    machine = describe(server_version(server) if problem is None and POSTGRES in kinds else None)

    rows: list[Row] = []
    failures = 0
    started = time.perf_counter()
    for name in names:
        for backend in backends:
            log(f"{name} on {backend.label} ...")
            begun = time.perf_counter()
            try:
                rows.extend(BENCHMARKS[name](backend, args.quick, folder, log))
            except Exception as exc:
                failures += 1
                log(traceback.format_exc())
                rows.append(
                    Row(name, backend.label, f"FAILED: {type(exc).__name__}: {exc}", "–", False)
                )
            log(f"{name} on {backend.label}: {time.perf_counter() - begun:.0f} s")
    rows.sort(key=_rank)
    text = render(rows, machine, args.quick, time.perf_counter() - started, problem)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.keep:
        log(f"working folder kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    if args.memory:
        from bench import memory  # written separately; self-contained

        print()
        failures += memory.main(["--sizes", args.memory]) != 0
    return 1 if failures else 0


def render(
    rows: list[Row], machine: list[str], quick: bool, seconds: float, problem: str | None
) -> str:
    """The whole report: title, machine, the table, and how each row was measured."""
    title = "syncledger benchmarks"
    if quick:
        title += " (--quick: sizes scaled down, not figures)"
    parts = [
        f"## {title}",
        "",
        f"- made with `python -m bench{' --quick' if quick else ''}` (what each row times and "
        "excludes: the notes below the table and the docstrings in `bench/`)",
        *[f"- {line}" for line in machine],
        f"- run took {seconds / 60:.1f} min; load average at the end: {load_now()}",
    ]
    if problem:
        parts.append(f"- PostgreSQL rows skipped: {problem}")
    parts += ["", table(rows), "", "How each row was measured:", "", notes(rows)]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
