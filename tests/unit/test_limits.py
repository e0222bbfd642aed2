"""Pacing arithmetic with a fake clock: rolling windows, Retry-After pauses, Xero's remaining
counts, a relay's share of the app budget, and a steady stream instead of bursts."""

from __future__ import annotations

import threading

import pytest

from outbox.limits import Budget, Pacer, PacingStoppedError, SlidingWindow
from outbox.xero import Limits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.now += seconds
        return False


def test_a_window_allows_its_budget_then_waits_for_the_oldest_call_to_leave_it():
    clock = Clock()
    window = SlidingWindow(Budget(3, 60.0), clock)

    taken = [window.try_take() for _ in range(3)]
    clock.now += 10
    refused = window.try_take()
    clock.now += 50
    again = window.try_take()

    assert taken == [0.0, 0.0, 0.0]
    assert refused == pytest.approx(50.0)
    assert again == 0.0


def test_a_pause_holds_every_call_until_it_ends():
    clock = Clock()
    window = SlidingWindow(Budget(60, 60.0), clock)

    window.pause(7)

    assert window.try_take() == pytest.approx(7)
    clock.now += 7
    assert window.try_take() == 0.0


def test_fewer_calls_left_at_xero_than_we_counted_are_counted_as_spent():
    clock = Clock()
    window = SlidingWindow(Budget(55, 60.0), clock)
    window.try_take()

    window.observe_remaining(10, margin=2)  # someone else used the same connection

    assert window.used() == 55 - 8
    window.observe_remaining(50, margin=2)  # more left than we think: nothing changes
    assert window.used() == 55 - 8


def test_a_resized_window_allows_the_new_budget():
    clock = Clock()
    window = SlidingWindow(Budget(10, 60.0), clock)

    window.resize(2)

    assert [window.try_take() for _ in range(3)][-1] > 0
    assert window.budget == Budget(2, 60.0)


def test_a_smooth_window_spaces_its_calls_evenly_over_the_window():
    clock = Clock()
    window = SlidingWindow(Budget(6, 60.0), clock, smooth=True)

    first = window.try_take()
    second = window.try_take()
    clock.now += 10
    third = window.try_take()

    assert (first, third) == (0.0, 0.0)
    assert second == pytest.approx(10.0)
    assert window.wait_time() == pytest.approx(10.0)


def test_the_pacer_takes_from_the_organisation_and_the_app_and_stops_when_told():
    clock = Clock()
    org = SlidingWindow(Budget(2, 60.0), clock)
    app = SlidingWindow(Budget(100, 60.0), clock)
    stop = threading.Event()
    pace = Pacer(org, app, stop, sleep=clock.sleep)

    pace()
    pace()
    both = (org.used(), app.used())
    started = clock.now
    pace()  # the organisation's third call in a minute waits for its first to leave
    waited = clock.now - started
    stop.set()

    assert both == (2, 2)
    assert waited == pytest.approx(60.0)
    with pytest.raises(PacingStoppedError):
        pace()


def test_the_pacer_follows_what_xero_reports_for_the_organisation_and_the_app():
    clock = Clock()
    org = SlidingWindow(Budget(55, 60.0), clock)
    app = SlidingWindow(Budget(9500, 60.0), clock)
    pace = Pacer(org, app, threading.Event(), sleep=clock.sleep)

    pace.observe(Limits(minute=5, day=4000, app_minute=100))

    assert org.used() == 55 - 3
    assert app.used() == 9500 - 98
