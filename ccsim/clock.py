"""Simulated clock: the single source of "now" for the whole simulator.

Every timestamp, token expiry, rate-limit window, quota day, activity progress
and campaign send time reads ``SimClock``.  Tests move time forward with
``clock.advance(seconds)`` (or ``POST /__sim__/clock``) instead of sleeping.
Also holds the ISO-8601 helpers: CC emits ``YYYY-MM-DDTHH:MM:SSZ`` (contract
§2.2, §6) but clients send many forms, so ``parse_iso`` is lenient.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

UTC = timezone.utc


class SimClock:
    """Wall clock plus an adjustable offset (never goes backwards)."""

    def __init__(self, offset: float = 0.0):
        self._offset = float(offset)
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def time(self) -> float:
        """Epoch seconds (float) in simulated time."""
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._offset += float(seconds)
        return self.now()


def iso(dt: datetime | float | None) -> str | None:
    """Format as CC does in real responses: no fractional seconds, 'Z'."""
    if dt is None:
        return None
    if isinstance(dt, (int, float)):
        dt = datetime.fromtimestamp(dt, tz=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d")


def parse_iso(value: str) -> datetime:
    """Parse ISO-8601 date or date-time (Z, offsets, fractions). Raises ValueError."""
    if not isinstance(value, str) or not value:
        raise ValueError("empty date")
    v = value.strip().replace(" ", "+") if "T" in value else value.strip()
    if v.endswith("Z") or v.endswith("z"):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso_from_query(value: str) -> str:
    """Normalise a query date to our stored string form for cheap comparisons."""
    return iso(parse_iso(value))


def plus(dt: datetime, seconds: float) -> datetime:
    return dt + timedelta(seconds=seconds)
