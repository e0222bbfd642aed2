"""Bounded resources: ``ingest`` and ``replay`` stream their input, so their peak memory does not
grow with it. A quick run of ``bench.memory`` (the 1 GB measurement is a benchmark, not a test)
on two small sizes: a command that held its input would need several times the extra input
in extra memory; a streaming one needs next to none."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.memory import MIB, measure, table

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]


def test_ingest_and_replay_peak_memory_stays_flat_as_the_input_grows(tmp_path: Path):
    rows = measure([4 * MIB, 24 * MIB], tmp_path)

    print(table(rows))
    assert all(r.exit_code == 0 for r in rows), table(rows)
    for command in ("ingest", "replay"):
        small, large = (r for r in rows if r.command == command)
        assert large.input_bytes >= 5 * small.input_bytes
        grown = large.peak_rss - small.peak_rss
        # 20 MB more input; holding it as text alone would add 20 MB, as parsed objects far more
        assert grown < 8 * MIB, table(rows)
