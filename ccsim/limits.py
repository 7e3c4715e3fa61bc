"""Per-application rate limits (contract §2.5).

* 4 requests per second per client id (sliding one-second window) ->
  429 ``{"error_key":"throttled","error_message":"Too Many Requests"}``.
* 10,000 requests per day per client id, reset at 00:00 UTC ->
  429 ``{"error_key":"quota_exceeded","error_message":"Limit Exceeded"}``.
* The token endpoint: 1 request per second (separate limiter instance).
Limits are per API key, not per token (contract §2.5, §5.2).  Time comes from
the simulated clock, so advancing it also opens the window.
"""
from __future__ import annotations

import threading
from collections import deque

from .clock import SimClock


class SlidingWindow:
    def __init__(self, clock: SimClock, per_second: float):
        self.clock = clock
        self.per_second = per_second
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Record a hit unless the key already had ``per_second`` hits in the last second."""
        if not self.per_second or self.per_second <= 0:
            return True
        now = self.clock.time()
        with self._lock:
            dq = self._hits.setdefault(key, deque())
            while dq and dq[0] <= now - 1.0:
                dq.popleft()
            if len(dq) >= self.per_second:
                return False
            dq.append(now)
            return True

    def reset(self):
        with self._lock:
            self._hits.clear()


class DailyQuota:
    def __init__(self, clock: SimClock, per_day: int):
        self.clock = clock
        self.per_day = per_day
        self._used: dict[tuple, int] = {}
        self._lock = threading.Lock()

    def _day(self) -> str:
        return self.clock.now().strftime("%Y-%m-%d")   # UTC day -> resets at 00:00 UTC

    def allow(self, key: str) -> bool:
        if not self.per_day or self.per_day <= 0:
            return True
        k = (key, self._day())
        with self._lock:
            used = self._used.get(k, 0)
            if used >= self.per_day:
                return False
            self._used[k] = used + 1
            return True

    def used(self, key: str) -> int:
        return self._used.get((key, self._day()), 0)

    def reset(self):
        with self._lock:
            self._used.clear()
