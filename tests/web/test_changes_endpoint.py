"""POST /opensolar/changes over real HTTP: what it answers, and what it records."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import httpx
import pytest

from syncledger.config import Settings
from syncledger.web.auth import signature
from syncledger.web.settings import WebSettings
from tests.web.conftest import Running, invoice, payment, start_server, stop_server


def post(
    web: Running,
    body: object,
    *,
    org: str | None = "42",
    secret: str | None = None,
    sign: bool = False,
    raw: bytes | None = None,
) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    key = secret if secret is not None else web.secrets.get(org or "42", "")
    if org is not None:
        headers["X-Syncledger-Org"] = org
    if sign:
        headers["X-Syncledger-Signature"] = signature(key, content)
    else:
        headers["X-Syncledger-Secret"] = key
    return httpx.post(f"{web.url}/opensolar/changes", content=content, headers=headers)


def test_a_good_change_is_recorded_and_answered_202(web: Running) -> None:
    answer = post(web, invoice("evt-1", 42, 1042, "INV-00019"))

    assert answer.status_code == 202
    assert answer.json() == {"ingested": 1, "duplicates": 0, "rejected": 0, "errors": []}
    (view,) = web.statuses("42")
    assert (view.row.number, view.row.status, view.row.amount) == (
        "INV-00019",
        "Not Attempted",
        "1000.00",
    )


def test_an_array_signed_with_hmac_names_its_organisation_by_its_changes(web: Running) -> None:
    changes = [invoice("evt-1", 42, 1, "INV-1"), payment("evt-2", 42, 3001, 1)]

    answer = post(web, changes, org=None, sign=True)

    assert answer.status_code == 202, answer.text
    assert answer.json()["ingested"] == 2
    assert web.numbers("42") == ["INV-1", "payment 3001"]


def test_the_same_change_twice_is_accepted_and_ignored(web: Running) -> None:
    change = invoice("evt-1", 42, 1, "INV-1")
    post(web, change)

    again = post(web, [change, change])

    assert again.status_code == 202
    assert again.json() == {"ingested": 0, "duplicates": 2, "rejected": 0, "errors": []}
    assert web.history_length("INV-1") == 2  # received, issued: nothing more


def test_a_bad_change_gets_field_level_errors_and_the_rest_of_the_batch_is_recorded(
    web: Running,
) -> None:
    bad = invoice("evt-2", 42, 2, "INV-2")
    bad["fields"]["line_items"][0]["unit_amount"] = "abc"
    del bad["timestamp"]
    changes = [invoice("evt-1", 42, 1, "INV-1"), bad, {"model": "Quote"}]

    answer = post(web, changes)

    assert answer.status_code == 400
    body = answer.json()
    assert (body["ingested"], body["duplicates"], body["rejected"]) == (1, 0, 2)
    errors = {(e["index"], e["field"]): e["message"] for e in body["errors"]}
    assert errors[(1, "fields.line_items[0].unit_amount")] == "not a decimal amount: 'abc'"
    assert errors[(1, "timestamp")] == "required"
    assert (2, "model") in errors
    assert (2, "event_id") in errors
    assert web.numbers() == ["INV-1"]  # nothing of the bad changes


def test_a_body_that_is_not_json_is_refused_with_400_and_nothing_is_recorded(
    web: Running,
) -> None:
    answer = post(web, None, raw=b'{"event_id": "evt-1", ')

    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["index"] is None and error["field"] == "(body)"
    assert error["message"].startswith("not valid JSON")
    assert web.numbers() == []


@pytest.mark.parametrize(
    ("org", "secret", "sign"),
    [
        ("42", "", False),  # no secret at all
        ("42", "not-the-secret", False),
        ("42", "not-the-secret", True),
        ("44", "any", False),  # an organisation without a secret
    ],
    ids=["missing", "wrong-secret", "wrong-signature", "unknown-organisation"],
)
def test_a_bad_or_missing_secret_is_401_and_nothing_is_recorded(
    web: Running, org: str, secret: str, sign: bool
) -> None:
    answer = post(web, invoice("evt-1", org, 1, "INV-1"), org=org, secret=secret, sign=sign)

    assert answer.status_code == 401
    assert "error" in answer.json()
    assert web.numbers() == []


def test_a_change_of_another_organisation_is_refused_and_the_rest_recorded(
    web: Running,
) -> None:
    changes = [invoice("evt-1", 42, 1, "INV-42"), invoice("evt-2", 43, 1, "INV-43")]

    answer = post(web, changes)

    assert answer.status_code == 400
    body = answer.json()
    assert body["ingested"] == 1
    (error,) = body["errors"]
    assert (error["index"], error["field"]) == (1, "org_id")
    assert "authenticated for organisation 42" in error["message"]
    assert web.numbers() == ["INV-42"]


def test_one_organisations_secret_does_not_open_another_organisation(web: Running) -> None:
    answer = post(web, invoice("evt-1", 43, 1, "INV-43"), org="43", secret=web.secrets["42"])

    assert answer.status_code == 401
    assert web.numbers() == []


def test_a_body_over_the_size_limit_is_413_and_nothing_is_recorded(web: Running) -> None:
    big = [invoice(f"evt-{i}", 42, i, f"INV-{i}") for i in range(200)]  # about 100 KB

    answer = post(web, big)

    assert answer.status_code == 413
    assert "larger than 65536 bytes" in answer.json()["error"]
    assert web.numbers() == []


def test_a_chunked_body_over_the_size_limit_is_413(web: Running) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for i in range(200):
            yield json.dumps(invoice(f"evt-{i}", 42, i, f"INV-{i}")).encode() + b","
        yield b"{}]"

    answer = httpx.post(
        f"{web.url}/opensolar/changes",
        content=chunks(),
        headers={"X-Syncledger-Org": "42", "X-Syncledger-Secret": web.secrets["42"]},
    )

    assert answer.status_code == 413
    assert web.numbers() == []


def test_an_empty_array_records_nothing(web: Running) -> None:
    answer = post(web, [])

    assert answer.status_code == 202
    assert answer.json()["ingested"] == 0


def test_without_a_secret_key_the_endpoint_answers_503(
    settings: Settings, web_settings: WebSettings
) -> None:
    running = start_server(dataclasses.replace(settings, secret_key=None), web_settings)
    try:
        answer = post(running, invoice("evt-1", 42, 1, "INV-1"), secret="whatever")
    finally:
        stop_server(running)

    assert answer.status_code == 503
    assert running.numbers() == []
