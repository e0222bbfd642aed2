"""NDJSON reading: pretty-printed JSON is recognised as such, everything else stays line by
line, and nothing is lost around it."""

from __future__ import annotations

import io
import json

from syncledger.ndjson import hint_for, lines

CHANGE = {"event_id": "e1", "fields": {"customer": {"name": "A"}, "lines": [1, 2]}}


def read(text: str) -> list[tuple[int, int | None, bool]]:
    return [
        (line.number, line.last, line.problem is not None)
        for line in lines(io.BytesIO(text.encode()))
    ]


def test_ndjson_lines_pass_through_one_by_one():
    text = "\n".join(json.dumps(CHANGE) for _ in range(3)) + "\n"
    assert read(text) == [(1, None, False), (2, None, False), (3, None, False)]


def test_a_pretty_printed_value_becomes_one_problem_and_the_next_line_survives():
    pretty = json.dumps(CHANGE, indent=2)
    size = len(pretty.splitlines())
    found = list(lines(io.BytesIO((pretty + "\n" + json.dumps(CHANGE) + "\n").encode())))
    assert [(f.number, f.last) for f in found] == [(1, size), (size + 1, None)]
    assert found[0].problem is not None and "NDJSON" in found[0].problem
    assert found[1].problem is None and json.loads(found[1].raw or b"") == CHANGE


def test_a_pretty_printed_array_is_named_as_an_array():
    found = list(lines(io.BytesIO(json.dumps([CHANGE, CHANGE], indent=2).encode())))
    assert len(found) == 1 and found[0].problem and "an array" in found[0].problem


def test_a_broken_line_does_not_swallow_the_good_lines_after_it():
    text = '{"event_id": "x",\n' + json.dumps(CHANGE) + "\n" + json.dumps(CHANGE) + "\n"
    assert read(text) == [(1, None, False), (2, None, False), (3, None, False)]


def test_an_unfinished_value_at_the_end_is_reported_line_by_line():
    text = "{\n" + '  "event_id": "x",\n'
    assert read(text) == [(1, None, False), (2, None, False)]


def test_hints_only_for_what_looks_like_pieces_of_json():
    assert hint_for(b"[1, 2]\n") and "array" in (hint_for(b"[1, 2]\n") or "")
    assert hint_for(b'  "event_id": "x",\n')
    assert hint_for(b"}\n")
    assert hint_for(b"not json at all\n") is None
    assert hint_for(json.dumps(CHANGE).encode()) is None
