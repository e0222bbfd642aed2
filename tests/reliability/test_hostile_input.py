"""Hostile input: property-based tests (hypothesis, derandomised, bounded) over the change parser
and ``ingest``, and the real CLI fed a file of every kind of bad line.

Whatever a line holds (wrong types, missing and extra fields, huge strings and numbers, NaN and
Infinity, zero or negative quantities, unknown currencies, invalid dates, deep nesting, invalid
UTF-8, a 10 MB line), it is never a traceback: it is recorded, or rejected with an error naming
the line and the field, and nothing of a rejected change is appended while the valid changes
around it are kept.

The inputs these properties first found ending in a traceback (timestamps whose offset leaves
the calendar, amounts like ``1E+1000000``, lone surrogates) are also pinned down one by one in
``test_defects.py``.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.errors import ChangeError
from domain.opensolar import Change, parse_change
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.samples import invoice_change, payment_change
from tests.e2e.conftest import Cli

pytestmark = pytest.mark.reliability

PROPERTY = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

FIELD = re.compile(r"\(line\)|[a-z_]+(?:\.[a-z_]+|\[\d+\])*")


# strategies ---------------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 10**30, 10**4000, -(10**4000)]),
    st.floats(allow_nan=False, allow_infinity=False),
)
numeric_text = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.builds(lambda m, e: f"{m}E{e:+d}", st.integers(-99, 99), st.integers(-(10**9), 10**9)),
    st.sampled_from(["NaN", "-Infinity", "sNaN", "1_000", " 12.50 ", "0x10", "1e-9999", "", "-0"]),
)
huge_numbers = st.one_of(
    st.builds(lambda m, e: f"{m}E+{e}", st.integers(1, 99), st.integers(999_000, 10**12)),
    st.sampled_from([10**4000, -(10**4000), "9" * 5000, "-1E+999999", "1E+1000000", 1e308]),
)
boundary_timestamps = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.sampled_from([datetime.min, datetime.max, datetime(1970, 1, 1)]),
    st.integers(-(23 * 60 + 59), 23 * 60 + 59),
)
texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=5),
    st.sampled_from([300, 5000, 200_000]).map(lambda n: "x" * n),
    st.sampled_from(["\u2028", "\ufeff", "'; DROP TABLE stored_events; --", "%s%s%n", "\\"]),
    st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=2),
)
dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "20261120", "2026-11-20T25:00"]),
)
timestamps = st.one_of(
    st.builds(
        lambda moment, minutes: moment.replace(
            tzinfo=timezone(timedelta(minutes=minutes))
        ).isoformat(),
        st.one_of(st.datetimes(), st.sampled_from([datetime.min, datetime.max])),
        st.integers(-(23 * 60 + 59), 23 * 60 + 59),
    ),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from(["1795341600", "253402300800", "-1", "1e10", "yesterday", "2026-11-20T09:30"]),
)
currencies = st.sampled_from(["AUD", "aud", "XXX", "EURO", "", "A\u0301UD", "usd "])


DEEP = "\x1edeep-nesting-"
"""A value standing for JSON nested ``depth`` levels deep (spliced in as text by ``serialise``,
so that neither hypothesis nor ``json`` has to recurse through it)."""


def deep_json(depth: int) -> str:
    return "[" * depth + '"bottom"' + "]" * depth


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"x": value}
    return value


leaves = st.one_of(st.none(), st.booleans(), numbers, numeric_text, texts, dates, currencies)
values = st.one_of(
    leaves,
    st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(max_size=8), children, max_size=3),
        ),
        max_leaves=8,
    ),
    st.sampled_from([50, 900, 5000, 100_000]).map(lambda depth: f"{DEEP}{depth}"),
    timestamps,
)


def values_for(path: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """Hostile values, biased towards the kind of value the field holds."""
    name = str(path[-1])
    if name in ("quantity", "unit_amount", "amount"):
        return st.one_of(huge_numbers, numeric_text, numbers, values)
    if name == "timestamp":
        return st.one_of(boundary_timestamps, timestamps, values)
    if name.endswith("_date"):
        return st.one_of(dates, values)
    if name == "currency":
        return st.one_of(currencies, values)
    if name in ("name", "description", "category", "reference", "invoice_number", "email"):
        return st.one_of(texts, values)
    return values


INVOICE_PATHS: tuple[tuple[Any, ...], ...] = (
    ("event_id",),
    ("timestamp",),
    ("org_id",),
    ("model",),
    ("model_id",),
    ("event",),
    ("fields",),
    ("fields", "invoice_number"),
    ("fields", "status"),
    ("fields", "project_id"),
    ("fields", "issued_date"),
    ("fields", "due_date"),
    ("fields", "currency"),
    ("fields", "amounts_include_tax"),
    ("fields", "customer"),
    ("fields", "customer", "id"),
    ("fields", "customer", "name"),
    ("fields", "customer", "email"),
    ("fields", "line_items"),
    ("fields", "line_items", 0),
    ("fields", "line_items", 0, "category"),
    ("fields", "line_items", 0, "description"),
    ("fields", "line_items", 0, "quantity"),
    ("fields", "line_items", 1, "unit_amount"),
    ("fields", "line_items", 1, "tax_rate"),
)
PAYMENT_PATHS: tuple[tuple[Any, ...], ...] = (
    ("timestamp",),
    ("model_id",),
    ("fields", "invoice_id"),
    ("fields", "amount"),
    ("fields", "currency"),
    ("fields", "status"),
    ("fields", "paid_date"),
    ("fields", "reference"),
)


def dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any] | None = None) -> tuple[dict[str, Any], list]:
    """A valid change with one to three of its fields replaced, removed, or joined by extras;
    returns the change and what was done to it: (action, path, value)."""
    is_invoice = base is None and draw(st.booleans())
    if base is None:
        base = invoice_change(2) if is_invoice else payment_change(2, invoice_id=1)
    change = json.loads(json.dumps(base))
    paths = INVOICE_PATHS if change["model"] == "Invoice" else PAYMENT_PATHS
    done = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent: Any = change
        try:
            for part in path[:-1]:
                parent = parent[part]
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(parent, dict | list):
            continue
        action = draw(st.sampled_from(["set", "set", "set", "delete", "extra"]))
        value: Any = None
        if action == "extra" and isinstance(parent, dict):
            value = draw(values)
            parent[draw(st.text(min_size=1, max_size=12))] = value
        elif action == "delete" and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif isinstance(parent, dict) or (isinstance(path[-1], int) and path[-1] < len(parent)):
            value = draw(values_for(path))
            parent[path[-1]] = value
        else:
            continue
        done.append((action, path, value))
    return change, done


def serialise(change: Any) -> bytes:
    text = json.dumps(change)
    text = re.sub(
        r'"\\u001edeep-nesting-(\d+)"', lambda found: deep_json(int(found.group(1))), text
    )
    return text.encode("utf-8", "surrogatepass")


@st.composite
def hostile_lines(draw: st.DrawFn) -> bytes:
    """One hostile NDJSON line (without its newline): a mutated change, or corrupted bytes."""
    change, _ = draw(mutated())
    line = serialise(change)
    how = draw(st.sampled_from(["as is", "as is", "truncate", "bytes", "bom", "nul"]))
    if how == "truncate" and len(line) > 1:
        return line[: draw(st.integers(1, len(line) - 1))]
    if how == "bytes":
        at = draw(st.integers(0, len(line)))
        return line[:at] + draw(st.binary(min_size=1, max_size=4)).replace(b"\n", b"") + line[at:]
    if how == "bom":
        return b"\xef\xbb\xbf" + line
    if how == "nul":
        return line.replace(b'"', b'"\x00', 1)
    return line


def related(error_field: str, path: tuple[Any, ...]) -> bool:
    """True if an error names the mutated field, its container, something inside it, or a
    sibling it is checked against (due date against issued date, a line's amount against its
    quantity)."""
    target = dotted(path)
    parent = dotted(path[:-1])
    return (
        error_field == target
        or error_field.startswith((f"{target}.", f"{target}["))
        or target.startswith((f"{error_field}.", f"{error_field}["))
        or (bool(parent) and error_field.startswith(f"{parent}."))
        or error_field == "fields.due_date"
    )


# the parser --------------------------------------------------------------------------------------


def attempt(text: str) -> Change | ChangeError:
    """The parsed change, or its rejection (any other error fails the test)."""
    try:
        return parse_change(text)
    except ChangeError as exc:
        return exc


@settings(PROPERTY, max_examples=600)
@given(mutated())
def test_the_parser_accepts_or_rejects_naming_the_fields_at_fault_never_anything_else(case):
    change, done = case

    outcome = attempt(serialise(change).decode("utf-8", "surrogatepass"))

    if isinstance(outcome, ChangeError):
        assert outcome.errors, "a rejection says why"
        for error in outcome.errors:
            assert FIELD.fullmatch(error.field), error
            assert error.message and "Traceback" not in error.message
        assert len(str(outcome)) < 2000, "errors stay readable (huge values are cut short)"
        if len(done) == 1 and done[0][1][0] not in ("model", "event"):
            _, path, value = done[0]
            # a value nested too deeply for any JSON reader is the line's fault, not a field's
            deep = "deep-nesting-" in json.dumps(value)
            assert any(related(e.field, path) or deep for e in outcome.errors), (done, outcome)
        event("rejected")
    else:
        assert outcome.event_id and outcome.org_id and outcome.model_id
        if all(action == "extra" for action, _, _ in done):
            event("extra fields accepted")


@settings(PROPERTY, max_examples=200)
@given(st.lists(st.sampled_from([None, "", "x" * 3000, 10**4000, -1, [], {}]), max_size=3))
def test_a_change_without_the_envelope_it_needs_is_rejected_naming_each_field(junk):
    change: dict[str, Any] = dict(zip(["event_id", "org_id", "model_id"], junk, strict=False))
    with pytest.raises(ChangeError) as rejected:
        parse_change(json.dumps(change))
    fields = {e.field for e in rejected.value.errors}
    assert {"timestamp", "model", "fields"} <= fields


# ingest ------------------------------------------------------------------------------------------


class Ledger:
    """One ledger for every example of a property; each example uses organisations of its own."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.orgs = itertools.count()

    def fresh_org(self) -> str:
        return f"h{next(self.orgs)}"

    def ingest(self, data: bytes) -> tuple[service.IngestReport, int]:
        before = self.system.log.head()
        report = service.ingest(self.system, io.BytesIO(data))
        return report, self.system.log.head() - before


@pytest.fixture
def ledger(db_location: str) -> Iterator[Ledger]:
    with System.open(Settings(db=db_location)) as system:
        yield Ledger(system)


def neighbours(org: str) -> tuple[bytes, bytes]:
    before = json.dumps(invoice_change(1, org_id=org, event_id=f"{org}-first")).encode()
    after = json.dumps(payment_change(3, invoice_id=1, org_id=org, event_id=f"{org}-last")).encode()
    return before, after


@settings(PROPERTY, max_examples=120)
@given(data=st.data())
def test_ingest_keeps_the_valid_changes_around_a_hostile_line_and_appends_nothing_of_it(
    ledger: Ledger, data
):
    control_org = ledger.fresh_org()
    first, last = neighbours(control_org)
    _, alone = ledger.ingest(first + b"\n" + last + b"\n")  # what the neighbours alone append
    org = ledger.fresh_org()
    first, last = neighbours(org)
    line = data.draw(hostile_lines()).replace(b'"org_id": 42', f'"org_id": "{org}"'.encode(), 1)
    report, appended = ledger.ingest(first + b"\n" + line + b"\n" + last + b"\n")

    assert report.ingested + report.duplicates + len(report.rejected) == 3 or not line.strip()
    assert ledger.system.ledger.find_document(org, "invoice", "1") is not None
    assert ledger.system.ledger.find_document(org, "payment", "3") is not None
    if report.rejected:
        [rejection] = report.rejected
        assert rejection.line == 2
        assert FIELD.match(rejection.reason) and ": " in rejection.reason, rejection
        assert appended == alone, "nothing of the rejected change was appended"
        event("rejected")
    else:
        event("accepted")


# the real CLI ------------------------------------------------------------------------------------


def bad_lines() -> list[tuple[bytes, str]]:
    """(line, the field its error must name) for every kind of bad line."""

    def change(**edits: Any) -> dict[str, Any]:
        base = invoice_change(900, event_id=f"bad-{len(edits)}-{sorted(edits)}")
        for path, value in edits.items():
            target = base
            parts = path.split("__")
            for part in parts[:-1]:
                target = target[int(part)] if part.isdigit() else target[part]
            last = parts[-1]
            if value is DELETE:
                target.pop(last)
            else:
                target[int(last) if last.isdigit() else last] = value
        return base

    cases: list[tuple[Any, str]] = [
        (change(model_id=[1]), "model_id"),
        (change(org_id=True), "org_id"),
        (change(event_id=DELETE), "event_id"),
        (change(timestamp=DELETE), "timestamp"),
        (change(model="Quote"), "model"),
        (change(fields=DELETE), "fields"),
        (change(fields__currency="ZZZ"), "fields.currency"),
        (change(fields__currency=DELETE), "fields.currency"),
        (change(fields__issued_date="2026-02-30"), "fields.issued_date"),
        (change(fields__due_date="yesterday"), "fields.due_date"),
        (change(timestamp="2026-11-31T00:00:00Z"), "timestamp"),
        (change(timestamp="99999999999999"), "timestamp"),
        (change(fields__line_items__0__quantity=0), "fields.line_items[0].quantity"),
        (change(fields__line_items__0__quantity="-2"), "fields.line_items[0].quantity"),
        (change(fields__line_items__0__unit_amount="NaN"), "fields.line_items[0].unit_amount"),
        (
            change(fields__line_items__0__unit_amount="-Infinity"),
            "fields.line_items[0].unit_amount",
        ),
        (change(fields__line_items__0__unit_amount="1e400"), "fields.line_items[0].unit_amount"),
        (change(fields__line_items__0__unit_amount=10**300), "fields.line_items[0].unit_amount"),
        (change(fields__line_items__0__unit_amount="abc"), "fields.line_items[0].unit_amount"),
        (change(fields__line_items__1="sales"), "fields.line_items[1]"),
        (change(fields__customer__name="x" * 100_000), "fields.customer.name"),
        (change(fields__customer__email="not-an-email"), "fields.customer.email"),
        (change(fields__customer=[]), "fields.customer"),
        (change(fields__line_items={"a": 1}), "fields.line_items"),
        (change(fields__status={"deep": nested(200)}), "fields.status"),
        (change(fields__amounts_include_tax="yes"), "fields.amounts_include_tax"),
        (change(fields__invoice_number="INV\x00-1"), "fields.invoice_number"),
    ]
    lines = [(json.dumps(c).encode(), f) for c, f in cases]
    payment = payment_change(901, event_id="bad-payment")
    payment["fields"]["amount"] = "0.00"
    lines.append((json.dumps(payment).encode(), "fields.amount"))
    payment = payment_change(902, event_id="bad-payment-2")
    payment["fields"]["amount"] = "12.345"
    lines.append((json.dumps(payment).encode(), "fields.amount"))
    lines += [
        (b'{"event_id": "e1", "timestamp": 1', "(line)"),
        (b"[1, 2, 3]", "(line)"),
        (b'"just a string"', "(line)"),
        (deep_json(100_000).encode(), "(line)"),
        (b'{"event_id": "\xff\xfe\xfa"}', "(line)"),
        (b"\x00\x01\x02", "(line)"),
        (b"x" * (10 * 1024 * 1024), "(line)"),
    ]
    return lines


DELETE = object()


@pytest.mark.e2e
def test_the_cli_rejects_every_bad_line_with_its_number_and_field_and_keeps_the_rest(
    db_location: str, tmp_path: Path
):
    cli = Cli(db_location, tmp_path)
    bad = bad_lines()
    good = [invoice_change(n, event_id=f"good-{n}") for n in range(len(bad) + 1)]
    content = []
    for index, (line, _) in enumerate(bad):
        content += [json.dumps(good[index]).encode(), line]
    content.append(json.dumps(good[-1]).encode())
    path = tmp_path / "hostile.ndjson"
    path.write_bytes(b"\n".join(content) + b"\n")

    result = cli("ingest", str(path), ok=False, timeout=120)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == f"ingested {len(good)}, duplicates 0, rejected {len(bad)}"
    reported = result.stderr.splitlines()
    assert len(reported) == len(bad), result.stderr[:3000]
    for index, ((_, field), message) in enumerate(zip(bad, reported, strict=True)):
        assert message.startswith(f"line {2 * index + 2}: {field}"), (field, message[:300])
        assert len(message) < 1000, "a huge value is not echoed back whole"
    statuses = cli.status("--all")
    assert sorted(s["document"] for s in statuses) == sorted(
        f"invoice:{n}" for n in range(len(good))
    )
    again = cli("ingest", str(path), ok=False, timeout=120)
    assert again.stdout.strip() == f"ingested 0, duplicates {len(good)}, rejected {len(bad)}"


@pytest.mark.e2e
def test_a_stream_on_stdin_with_a_bad_line_in_the_middle_is_read_to_the_end(
    db_location: str, tmp_path: Path
):
    cli = Cli(db_location, tmp_path)
    lines = [json.dumps(invoice_change(n, event_id=f"stdin-{n}")) for n in range(1200)]
    lines[600] = lines[600].replace('"quantity": 1', '"quantity": NaN', 1)

    result = cli("ingest", "-", input="\n".join(lines) + "\n", ok=False)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.strip() == "ingested 1199, duplicates 0, rejected 1"
    assert result.stderr.startswith("line 601: fields.line_items[0].quantity: "), result.stderr
