"""The Xero client's boundary: every status code and transport failure maps to one error class,
and bodies are canonical JSON with decimals. In-process transports only (unit tests)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from outbox.xero import (
    XeroAuthError,
    XeroClient,
    XeroDuplicateNumberError,
    XeroNotFoundError,
    XeroRateLimitError,
    XeroRejectedError,
    XeroTransientError,
    classify,
    classify_exception,
    dumps,
    idempotency_key,
)

REQUEST = httpx.Request("PUT", "http://xero/api.xro/2.0/Invoices")


def response(status: int, body: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, text=body, headers=headers, request=REQUEST)


VALIDATION = json.dumps(
    {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [
            {
                "ValidationErrors": [
                    {"Message": "Account code '999' is not a valid code for this document."}
                ]
            }
        ],
    }
)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "uncertain"),
    [
        (400, VALIDATION, None, XeroRejectedError, None),
        (
            400,
            json.dumps(
                {"Elements": [{"ValidationErrors": [{"Message": "Invoice # must be unique."}]}]}
            ),
            None,
            XeroDuplicateNumberError,
            None,
        ),
        (
            401,
            json.dumps({"Title": "Unauthorized", "Detail": "TokenExpired"}),
            None,
            XeroAuthError,
            None,
        ),
        (
            403,
            json.dumps({"Title": "Forbidden", "Detail": "AuthenticationUnsuccessful"}),
            None,
            XeroAuthError,
            None,
        ),
        (404, "The resource you have specified cannot be found", None, XeroNotFoundError, None),
        (
            429,
            "",
            {"Retry-After": "17", "X-Rate-Limit-Problem": "minute"},
            XeroRateLimitError,
            False,
        ),
        (
            500,
            json.dumps({"Message": "An unhandled error with the Xero API"}),
            None,
            XeroTransientError,
            True,
        ),
        (502, "Bad Gateway", None, XeroTransientError, True),
        (503, "The Xero API is currently offline for maintenance", None, XeroTransientError, False),
        (504, "", None, XeroTransientError, True),
        (412, "", None, XeroRejectedError, None),
    ],
)
def test_every_status_code_maps_to_one_error_class(status, body, headers, kind, uncertain):
    error = classify(response(status, body, headers), write=True)

    assert type(error) is kind
    if uncertain is not None:
        assert error.uncertain is uncertain


def test_validation_messages_are_xeros_own():
    error = classify(response(400, VALIDATION), write=True)

    assert error.messages == ("Account code '999' is not a valid code for this document.",)


def test_daily_limit_is_recognised():
    error = classify(
        response(429, "", {"Retry-After": "66975", "X-Rate-Limit-Problem": "day"}), write=False
    )

    assert isinstance(error, XeroRateLimitError) and error.is_daily and error.retry_after == 66975


def test_success_is_not_an_error():
    assert classify(response(200, "{}"), write=True) is None


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_httpx_error_class_maps_to_a_xero_error():
    for cls in [httpx.HTTPError, *_all_subclasses(httpx.HTTPError)]:
        if cls is httpx.HTTPStatusError:
            exc = cls("boom", request=REQUEST, response=response(500))
        else:
            try:
                exc = cls("boom", request=REQUEST)
            except TypeError:
                exc = cls("boom")
        error = classify_exception(exc, write=True)
        assert isinstance(error, XeroTransientError), cls


@pytest.mark.parametrize(
    ("exc", "uncertain"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow"), False),
        (httpx.ReadTimeout("slow"), True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
    ],
)
def test_uncertainty_follows_whether_the_request_may_have_arrived(exc, uncertain):
    assert classify_exception(exc, write=True).uncertain is uncertain
    assert classify_exception(exc, write=False).uncertain is False


def test_dumps_is_canonical_and_keeps_decimals_exact():
    assert dumps({"b": Decimal("9900.00"), "a": [Decimal("-0.10"), "x", None, True]}) == (
        '{"a":[-0.10,"x",null,true],"b":9900.00}'
    )


def test_idempotency_keys_are_deterministic_and_short_enough():
    body = {"Amount": Decimal("1.00")}
    key = idempotency_key("tenant", "payment", "doc", "3.0", body)

    assert key == idempotency_key("tenant", "payment", "doc", "3.0", {"Amount": Decimal("1.00")})
    assert key != idempotency_key("tenant", "payment", "doc", "3.1", body)
    assert len(key) <= 128


def test_a_401_is_retried_once_with_a_refreshed_token():
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") == "Bearer old":
            return httpx.Response(401, json={"Detail": "TokenExpired"})
        return httpx.Response(200, json={"Contacts": []})

    def token(refresh: bool) -> str:
        return "new" if refresh else "old"

    client = XeroClient(
        httpx.Client(transport=httpx.MockTransport(handler)), "http://x", "t", token=token
    )

    assert client.find_contacts(email="a@b.co") == []
    assert seen == ["Bearer old", "Bearer new"]


def test_calls_are_recorded_without_tokens():
    records = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"Invoices": [{"InvoiceID": "i-1", "Status": "AUTHORISED"}]}
        )

    client = XeroClient(
        httpx.Client(transport=httpx.MockTransport(handler)),
        "http://x",
        "t",
        token=lambda refresh: "secret-token",
        on_call=records.append,
    )
    client.create_invoice({"InvoiceNumber": "INV-1", "LineItems": []}, "key-1")

    assert records[0].status == 200 and records[0].idempotency_key == "key-1"
    assert records[0].response == {"Invoices": [{"InvoiceID": "i-1", "Status": "AUTHORISED"}]}
    assert "secret-token" not in json.dumps(records[0].as_dict())


def test_an_element_error_in_a_200_batch_answer_is_a_rejection():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "Invoices": [
                    {
                        "HasErrors": True,
                        "StatusAttributeString": "ERROR",
                        "ValidationErrors": [{"Message": "Invoice # must be unique."}],
                    }
                ]
            },
        )

    client = XeroClient(httpx.Client(transport=httpx.MockTransport(handler)), "http://x", "t")

    with pytest.raises(XeroDuplicateNumberError):
        client.create_invoice({"InvoiceNumber": "INV-1"}, "k")
