"""When a campaign's report is refreshed: more often while it is young.

Most opens and clicks come in the first two days after a send, a trickle for a
week or two after, almost nothing past a few months. CCADMIN_REPORTS_SCHEDULE
(default "48h=15m,14d=1h,90d=1d") says how often for each age; past its last
age a report is refreshed only when a member asks.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings


@dataclass(frozen=True)
class Step:
    up_to: timedelta  # for campaigns younger than this ...
    every: timedelta  # ... refresh this often


def schedule() -> list[Step]:
    return [Step(up_to=timedelta(seconds=age), every=timedelta(seconds=every))
            for age, every in settings.CCADMIN_REPORTS_SCHEDULE]


def refresh_interval(*, sent_at: datetime | None, now: datetime) -> timedelta | None:
    """How often a campaign sent at `sent_at` is refreshed now; None: only on request."""
    steps = schedule()
    if sent_at is None:
        return steps[0].every  # sent, but not yet dated by the summaries: treat as new
    age = now - sent_at
    for step in steps:
        if age < step.up_to:
            return step.every
    return None


def next_refresh(*, sent_at: datetime | None, now: datetime) -> datetime | None:
    every = refresh_interval(sent_at=sent_at, now=now)
    return now + every if every is not None else None


def describe(every: timedelta | None) -> str:
    """In words: "every 15 minutes", "hourly", "daily", "only when asked"."""
    if every is None:
        return "only when asked"
    seconds = int(every.total_seconds())
    if seconds == 3600:
        return "hourly"
    if seconds == 86400:
        return "daily"
    if seconds % 86400 == 0:
        return f"every {seconds // 86400} days"
    if seconds % 3600 == 0:
        return f"every {seconds // 3600} hours"
    if seconds % 60 == 0:
        return f"every {seconds // 60} minutes"
    return f"every {seconds} seconds"


def describe_schedule() -> list[str]:
    """The schedule in words, one line per step ("up to 2 days after the send:
    every 15 minutes")."""
    lines = []
    for step in schedule():
        lines.append(f"up to {_age(step.up_to)} after the send: {describe(step.every)}")
    lines.append("after that: only when asked")
    return lines


def _age(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "1 day" if days == 1 else f"{days} days"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 hour" if hours == 1 else f"{hours} hours"
    return f"{seconds // 60} minutes"
