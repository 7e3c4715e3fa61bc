"""Constant Contact's timestamps on the wire, read and written in one place.

Constant Contact sends ISO-8601 times in UTC, with or without a fraction, with
`Z` or an offset, and some dates bare ("2024-10-30", a contact's deleted_at)
(contract §2.2). Filters such as `updated_after` take the same form back.
"""

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime


def parse_time(value: Any) -> datetime | None:
    """An upstream timestamp as an aware datetime; None for blanks and garbage."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    text = str(value)
    try:
        parsed = parse_datetime(text)
        if parsed is None and len(text) == 10:  # a bare date
            parsed = parse_datetime(f"{text}T00:00:00+00:00")
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        # Python 3.11's fromisoformat (inside parse_datetime) reads a bare date
        # as a naive midnight; Constant Contact's times are UTC.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_time(moment: datetime) -> str:
    """A filter value such as `updated_after`: ISO-8601 in UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_schedule_date(moment: datetime | None) -> str:
    """`scheduled_date` for POST …/schedules: ISO-8601 in UTC with milliseconds,
    or "0", which means "send now" (contract §3.7)."""
    if moment is None:
        return "0"
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S.000Z")
