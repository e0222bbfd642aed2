"""``GET /metrics`` in the Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from outbox.orgstate import OrgState
from outbox.store import MessageState
from projections.status import STATUSES

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RELAY_OUTCOMES: tuple[str, ...] = ("delivered", "failed", "retrying", "skipped", "deferred")
OUTBOX_STATES: tuple[str, ...] = (
    MessageState.READY,
    MessageState.WAITING,
    MessageState.DONE,
    MessageState.FAILED,
    MessageState.DROPPED,
)


@dataclass
class MetricsData:
    """Everything one scrape reports."""

    database_up: bool
    status_counts: dict[str, int] = field(default_factory=dict)
    outbox_depth: dict[str, int] = field(default_factory=dict)
    log_head: int = 0
    lag: dict[str, int] = field(default_factory=dict)
    relay_enabled: bool = False
    relay_up: bool = False
    relay_outcomes: dict[str, int] = field(default_factory=dict)
    parked_until: dict[str, float] = field(default_factory=dict)
    limits: list[OrgState] = field(default_factory=list)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[Mapping[str, str], float]]
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        shown = int(value) if float(value).is_integer() else value
        lines.append(f"{name}{{{text}}} {shown}" if text else f"{name} {shown}")
    return lines


def render(data: MetricsData) -> str:
    """The exposition text for one scrape."""
    lines: list[str] = []
    lines += _family(
        "syncledger_database_up",
        "gauge",
        "1 if the ledger database answered this scrape.",
        [({}, 1 if data.database_up else 0)],
    )
    if data.database_up:
        statuses = list(STATUSES) + sorted(set(data.status_counts) - set(STATUSES))
        lines += _family(
            "syncledger_documents",
            "gauge",
            "Documents by Accounting Sync status (Synced, Pending, Not Attempted, Failed), "
            "from the status projection.",
            [({"status": s}, data.status_counts.get(s, 0)) for s in statuses],
        )
        states = list(OUTBOX_STATES) + sorted(set(data.outbox_depth) - set(OUTBOX_STATES))
        lines += _family(
            "syncledger_outbox_messages",
            "gauge",
            "Outbox messages by state (ready and waiting are the delivery backlog).",
            [({"state": s}, data.outbox_depth.get(s, 0)) for s in states],
        )
        lines += _family(
            "syncledger_log_head",
            "gauge",
            "Position of the newest event in the ledger's notification log.",
            [({}, data.log_head)],
        )
        lines += _family(
            "syncledger_projection_lag_events",
            "gauge",
            "Events in the log that a projection has not applied yet.",
            [({"projection": name}, lag) for name, lag in sorted(data.lag.items())],
        )
    lines += _family(
        "syncledger_relay_up",
        "gauge",
        "1 if this process's relay thread is running (0 if stopped or disabled).",
        [({}, 1 if data.relay_up else 0)],
    )
    if data.database_up:
        lines += _family(
            "syncledger_xero_calls_remaining",
            "gauge",
            "Calls Xero last said an organisation has left (X-MinLimit-Remaining: minute, "
            "X-DayLimit-Remaining: day, X-AppMinLimit-Remaining: app_minute).",
            [
                ({"org": state.org, "window": window}, value)
                for state in data.limits
                for window, value in (
                    ("minute", state.minute_remaining),
                    ("day", state.day_remaining),
                    ("app_minute", state.app_remaining),
                )
                if value is not None
            ],
        )
        lines += _family(
            "syncledger_xero_limits_observed_seconds",
            "gauge",
            "When Xero last reported an organisation's limits (Unix time).",
            [
                ({"org": state.org}, state.observed_at)
                for state in data.limits
                if state.observed_at is not None
            ],
        )
        lines += _family(
            "syncledger_relay_org_parked_until_seconds",
            "gauge",
            "Organisations whose deliveries wait (Xero's daily limit) until this Unix time.",
            [({"org": org}, until) for org, until in sorted(data.parked_until.items())],
        )
    if data.relay_enabled:
        outcomes = list(RELAY_OUTCOMES) + sorted(set(data.relay_outcomes) - set(RELAY_OUTCOMES))
        lines += _family(
            "syncledger_relay_deliveries_total",
            "counter",
            "Deliveries this process's relay finished since it started, by outcome.",
            [({"outcome": o}, data.relay_outcomes.get(o, 0)) for o in outcomes],
        )
    return "\n".join(lines) + "\n"
