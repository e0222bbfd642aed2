"""GET /healthz and GET /metrics."""

from __future__ import annotations

import re

import httpx

from outbox.orgstate import OrgState
from syncledger.web.metrics import MetricsData, render
from tests.web.conftest import Running, invoice


def samples(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_health_reports_the_database_the_relay_and_the_lag(web: Running) -> None:
    web.ingest(invoice("evt-1", 42, 1, "INV-1"))

    answer = httpx.get(f"{web.url}/healthz")

    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["database"] == {"reachable": True}
    assert body["relay"] == {"enabled": False, "running": False}
    assert body["log_head"] > 0
    assert set(body["lag"]) == {"status", "outbox", "audit"}


def test_metrics_count_documents_outbox_and_lag_in_prometheus_text(web: Running) -> None:
    web.ingest(invoice("evt-1", 42, 1, "INV-1"), invoice("evt-2", 42, 2, "INV-2"))
    httpx.get(f"{web.url}/healthz")

    answer = httpx.get(f"{web.url}/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = samples(answer.text)
    assert values["syncledger_database_up"] == 1
    assert {k for k in values if k.startswith("syncledger_documents{")} == {
        f'syncledger_documents{{status="{s}"}}'
        for s in ("Synced", "Pending", "Not Attempted", "Failed")
    }
    assert values['syncledger_outbox_messages{state="ready"}'] == 0
    assert values["syncledger_log_head"] > 0
    assert 'syncledger_projection_lag_events{projection="status"}' in values
    assert values["syncledger_relay_up"] == 0
    assert "# TYPE syncledger_documents gauge" in answer.text


def test_metrics_follow_the_status_projection(web: Running) -> None:
    web.ingest(invoice("evt-1", 42, 1, "INV-1"))
    web.statuses()  # brings the projection up to date

    values = samples(httpx.get(f"{web.url}/metrics").text)

    assert values['syncledger_documents{status="Not Attempted"}'] == 1
    assert values['syncledger_projection_lag_events{projection="status"}'] == 0


def test_metric_labels_are_escaped_and_relay_families_appear_with_a_relay() -> None:
    text = render(
        MetricsData(
            database_up=True,
            relay_enabled=True,
            relay_up=True,
            relay_outcomes={"delivered": 3},
            parked_until={'4"2': 1800000000.0},
            limits=[OrgState("42", 58, 4990, None, 1790000000.5, None, None)],
        )
    )

    assert 'syncledger_relay_deliveries_total{outcome="delivered"} 3' in text
    assert 'syncledger_xero_calls_remaining{org="42",window="minute"} 58' in text
    assert 'syncledger_xero_calls_remaining{org="42",window="day"} 4990' in text
    assert 'window="app_minute"' not in text
    assert 'syncledger_xero_limits_observed_seconds{org="42"} 1790000000.5' in text
    assert 'syncledger_relay_org_parked_until_seconds{org="4\\"2"} 1800000000' in text
    assert re.search(r"^# TYPE syncledger_relay_deliveries_total counter$", text, re.M)


def test_metrics_say_when_the_database_is_down() -> None:
    text = render(MetricsData(database_up=False))

    assert "syncledger_database_up 0" in text
    assert "syncledger_documents" not in text
