"""The shared budget: at most 4 calls in any second, spread out rather than in
bursts, a daily quota with a reserve for interactive work, all shared by every
thread and process through Redis."""

from datetime import UTC, datetime, timedelta
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from apps.constantcontact.errors import BudgetExhausted, LimiterBusy, QuotaExceeded
from apps.constantcontact.ratelimit import ApiBudget, TokenEndpointLimiter


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_never_more_than_four_calls_in_any_second_across_threads():
    # The real production numbers: 4 per 1,040 ms window (a margin over CC's second).
    budget = ApiBudget(app_key="rps-test", per_second=4, window_ms=1040, daily_quota=10_000,
                       reserve=0)
    admitted: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(2):
            budget.acquire(interactive=False, timeout=10)
            with lock:
                admitted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    admitted.sort()
    assert len(admitted) == 12
    for i, start in enumerate(admitted):
        in_window = [t for t in admitted[i:] if t - start < 1.0]
        assert len(in_window) <= 4, f"{len(in_window)} calls within one second"
    # ...and it isn't slower than it needs to be: 12 calls need two full windows.
    assert admitted[-1] - admitted[0] < 3.5


def test_calls_are_spread_over_the_window_not_sent_in_a_burst():
    # Four calls sent at once would reach Constant Contact in a bunch, each delayed
    # differently by the queue they form: they go at least 1,040 / 5 = 208 ms apart.
    budget = ApiBudget(app_key="spread-test", per_second=4, window_ms=1040,
                       daily_quota=10_000, reserve=0)
    admitted = []
    for _ in range(5):
        budget.acquire(interactive=True, timeout=5)
        admitted.append(time.monotonic())

    gaps = [b - a for a, b in zip(admitted, admitted[1:])]
    assert min(gaps) >= 0.2, gaps
    assert admitted[4] - admitted[0] >= 1.03  # and five span more than the window


def test_a_waiting_member_goes_ahead_of_background_work():
    # Two windows' worth of background calls are already queued when a member's call
    # arrives: it must not wait behind all of them.
    budget = ApiBudget(app_key="priority-test", per_second=2, window_ms=500, daily_quota=1000,
                       reserve=0)
    order: list[str] = []
    lock = threading.Lock()

    def background():
        for _ in range(4):
            budget.acquire(interactive=False, timeout=10)
            with lock:
                order.append("background")

    threads = [threading.Thread(target=background) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.1)  # the background threads now hold the window and wait for more
    budget.acquire(interactive=True, timeout=10)
    with lock:
        order.append("member")
    for t in threads:
        t.join()

    # Eight background calls at two per half second take about two seconds; the member
    # gets the first free slot instead of the ninth.
    assert order.index("member") <= 3, order


def test_a_caller_that_cannot_wait_long_enough_is_told_so():
    budget = ApiBudget(app_key="busy-test", per_second=1, window_ms=5000, daily_quota=100,
                       reserve=0)
    budget.acquire(interactive=True, timeout=1)
    started = time.monotonic()
    with pytest.raises(LimiterBusy):
        budget.acquire(interactive=True, timeout=0.5)
    assert time.monotonic() - started < 0.5  # no pointless sleep before giving up


def test_background_work_stops_at_the_reserve_and_interactive_work_may_use_it():
    budget = ApiBudget(app_key="reserve-test", per_second=1000, daily_quota=5, reserve=2)
    for _ in range(3):
        budget.acquire(interactive=False, timeout=1)
    with pytest.raises(BudgetExhausted):
        budget.acquire(interactive=False, timeout=1)
    budget.acquire(interactive=True, timeout=1)
    budget.acquire(interactive=True, timeout=1)
    with pytest.raises(BudgetExhausted):
        budget.acquire(interactive=True, timeout=1)
    usage = budget.usage()
    assert (usage.total, usage.remaining) == (5, 0)
    assert usage.events["budget_refused"] == 2


def test_the_daily_count_resets_at_midnight_utc():
    clock = Clock(datetime(2026, 3, 1, 23, 59, 58, tzinfo=UTC))
    budget = ApiBudget(app_key="midnight-test", per_second=1000, daily_quota=2, reserve=0,
                       clock=clock)
    budget.acquire(interactive=True, timeout=1)
    budget.acquire(interactive=True, timeout=1)
    with pytest.raises(BudgetExhausted):
        budget.acquire(interactive=True, timeout=1)
    clock.now += timedelta(seconds=3)  # 00:00:01 UTC
    budget.acquire(interactive=True, timeout=1)
    assert budget.usage().total == 1
    assert budget.usage(clock.now.date() - timedelta(days=1)).total == 2


def test_the_day_is_counted_in_utc_whatever_the_clock_zone():
    # 20:00 in New York on 1 March is already 2 March in UTC.
    clock = Clock(datetime(2026, 3, 1, 20, 0, tzinfo=ZoneInfo("America/New_York")))
    budget = ApiBudget(app_key="utc-test", per_second=1000, daily_quota=10, reserve=0,
                       clock=clock)
    budget.acquire(interactive=True, timeout=1)
    assert budget.usage().day.isoformat() == "2026-03-02"


def test_after_constant_contact_says_quota_exceeded_nothing_is_sent_today():
    budget = ApiBudget(app_key="spent-test", per_second=1000, daily_quota=10_000, reserve=0)
    budget.mark_quota_exhausted()
    with pytest.raises(QuotaExceeded):
        budget.acquire(interactive=True, timeout=1)
    assert budget.usage().total == 0


def test_a_throttle_makes_every_caller_pause():
    budget = ApiBudget(app_key="cooloff-test", per_second=1000, daily_quota=100, reserve=0)
    budget.cool_off(300)
    started = time.monotonic()
    budget.acquire(interactive=True, timeout=2)
    assert time.monotonic() - started >= 0.25


def test_calls_are_counted_by_area_member_and_job():
    budget = ApiBudget(app_key="stats-test", per_second=1000, daily_quota=100, reserve=0)
    budget.record_call(area="contacts", member="7", job="", attempts=2)
    budget.record_call(area="contacts", member="7", job="contacts.sync", attempts=1)
    budget.record_call(area="reports", member="8", job="reports.refresh", attempts=1)
    budget.note("throttled")
    usage = budget.usage()
    assert usage.by_area == {"contacts": 3, "reports": 1}
    assert usage.by_member == {"7": 3, "8": 1}
    assert usage.by_job == {"interactive": 2, "contacts.sync": 1, "reports.refresh": 1}
    assert usage.events == {"throttled": 1}


def test_budgets_of_different_application_keys_are_separate():
    one = ApiBudget(app_key="key-one", per_second=1000, daily_quota=1, reserve=0)
    two = ApiBudget(app_key="key-two", per_second=1000, daily_quota=1, reserve=0)
    one.acquire(interactive=True, timeout=1)
    two.acquire(interactive=True, timeout=1)
    with pytest.raises(BudgetExhausted):
        one.acquire(interactive=True, timeout=1)


def test_the_token_endpoint_has_its_own_one_per_second_limit(settings):
    settings.CC_TOKEN_RATE_PER_SECOND = 1
    settings.CC_RATE_WINDOW_MS = 400  # shorter than production's 1,040 ms to keep this fast
    limiter = TokenEndpointLimiter(app_key="token-test")
    started = time.monotonic()
    limiter.acquire(timeout=2)
    limiter.acquire(timeout=2)
    assert time.monotonic() - started >= 0.35
    # The API budget is untouched by token requests.
    assert ApiBudget(app_key="token-test").usage().total == 0
