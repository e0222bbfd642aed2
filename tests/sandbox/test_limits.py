"""Contract: Xero's rate limits and their headers (notes/xero-api.md §3), on scaled windows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import Api


def test_every_response_reports_the_remaining_calls(api: Api) -> None:
    """§3: every response carries X-DayLimit-Remaining, X-MinLimit-Remaining and
    X-AppMinLimit-Remaining."""
    ok = api.get("/Organisation")
    missing = api.get("/Invoices/00000000-0000-0000-0000-000000000001")
    second = api.get("/Organisation")

    for response in (ok, missing, second):
        for header in ("X-MinLimit-Remaining", "X-DayLimit-Remaining", "X-AppMinLimit-Remaining"):
            assert response.headers[header].isdigit(), header
    assert ok.headers["X-MinLimit-Remaining"] == "59"
    assert second.headers["X-MinLimit-Remaining"] == "57"
    assert second.headers["X-DayLimit-Remaining"] == "4997"


def test_the_minute_limit_slides_with_its_window(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§3: 60 calls a minute per tenant (here 3 per 1.5-second window); a breach is 429 with
    X-Rate-Limit-Problem and a Retry-After in whole seconds; the window slides."""
    sandbox = start_sandbox(minute_limit=3, minute_window_s=1.5)
    api = make_api(sandbox)

    statuses = [api.get("/Organisation").status_code for _ in range(4)]
    limited = api.get("/Organisation")
    time.sleep(1.55)
    again = api.get("/Organisation")

    assert statuses == [200, 200, 200, 429]
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert limited.headers["Retry-After"] in {"1", "2"}
    assert again.status_code == 200


def test_the_minute_limit_is_per_tenant(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§3: the minute limit is per tenant (per connection)."""
    sandbox = start_sandbox(tenants=2, minute_limit=1, minute_window_s=30.0)
    first, second = (make_api(sandbox, tenant) for tenant in sandbox.tenant_ids)

    assert first.get("/Organisation").status_code == 200
    assert first.get("/Organisation").status_code == 429
    assert second.get("/Organisation").status_code == 200


def test_the_day_limit_says_day_and_how_long_to_wait(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§3: 5,000 a day per tenant; "Stop the tenant's queue on `day`"; Retry-After can be
    hours."""
    sandbox = start_sandbox(day_limit=2)
    api = make_api(sandbox)

    api.get("/Organisation")
    api.get("/Organisation")
    limited = api.get("/Organisation")

    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "day"
    assert 86000 <= int(limited.headers["Retry-After"]) <= 86400
    assert limited.headers["X-DayLimit-Remaining"] == "0"


def test_the_app_minute_limit_spans_all_tenants(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§3: 10,000 a minute across the whole app (here 3)."""
    sandbox = start_sandbox(tenants=3, app_minute_limit=3, minute_window_s=30.0)
    apis = [make_api(sandbox, tenant) for tenant in sandbox.tenant_ids]

    statuses = [a.get("/Organisation").status_code for a in apis]
    limited = apis[0].get("/Organisation")

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "appminute"


def test_more_than_the_concurrent_limit_in_flight_is_refused(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§3: 5 calls in progress per tenant (here 2, each held 600 ms by added latency)."""
    sandbox = start_sandbox(concurrent_limit=2, latency_ms=600)
    api = make_api(sandbox)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def call() -> None:
        response = api.get("/Organisation")
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 429, 429]
    problems = {a.headers.get("X-Rate-Limit-Problem") for a in answers if a.status_code == 429}
    assert problems == {"concurrent"}


def test_limits_can_be_changed_while_running(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§3 (the sandbox's control of the limits above): tighter limits apply at once."""
    sandbox = start_sandbox()
    api = make_api(sandbox)
    api.get("/Organisation")

    sandbox.set_limits(minute_limit=1)

    assert api.get("/Organisation").status_code == 429
