"""The shared Constant Contact call budget, kept in Redis for every web and worker process.

Constant Contact counts 4 requests/second and 10,000/day per application key,
across every connected account and process (contract §2.5), and tells nobody
how much is left: no headers, no Retry-After. So we count ourselves:

- a sliding-window log per application key (a Redis sorted set of admission
  times): a request is admitted only if fewer than 4 were admitted in the last
  window. One Lua script checks and records atomically, timed by Redis's own
  clock, so processes with skewed clocks still agree;
- a daily counter keyed by the UTC date, so it resets at 00:00 UTC; the last
  part of the day's quota (the *reserve*) is kept for interactive work, and a
  background call that would eat into it is refused before it is sent;
- a shared cool-off after a 429 `throttled`, honoured by every process, and a
  "spent for today" flag after a 429 `quota_exceeded` (backing off won't clear it);
- a separate 1-per-second window for the token endpoint.

Counters for the API budget page (calls by area, member and job; throttles,
errors, refusals) are Redis hashes keyed by date.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time as dtime, timedelta
import random
import time
import uuid

import redis

from apps.constantcontact import conf
from apps.constantcontact.errors import BudgetExhausted, LimiterBusy, QuotaExceeded
from apps.core.redis import redis_client

# KEYS: 1 window log, 2 day counter, 3 cool-off flag, 4 "quota spent today" flag,
#       5 interactive callers waiting (sorted set scored by their deadline, µs)
# ARGV: 1 limit per window, 2 window (µs), 3 unique member, 4 day limit (-1: none),
#       5 day-key lifetime (s), 6 1 for background work
# Background work yields while a member's call waits, so a long sync never makes a
# person wait for a slot (interactive work goes first, DESIGN "Jobs").
# Returns {1, 0} admitted; {0, wait µs} wait; {-1, used} day budget spent;
# {-2, 0} Constant Contact said the day's quota is spent.
_ACQUIRE_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local day_limit = tonumber(ARGV[4])
if day_limit >= 0 then
  if redis.call('EXISTS', KEYS[4]) == 1 then return {-2, 0} end
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= day_limit then return {-1, used} end
end
local cool = redis.call('PTTL', KEYS[3])
if cool > 0 then return {0, cool * 1000} end
if tonumber(ARGV[6]) == 1 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', string.format('%d', now))
  if redis.call('ZCARD', KEYS[5]) > 0 then return {0, 50000} end
end
local window = tonumber(ARGV[2])
-- Scores go through string.format: Lua prints big numbers with 14 digits otherwise.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now + 1}
end
redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
if day_limit >= 0 then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
end
return {1, 0}
"""

# Keep a day's counters for a week, for the budget page's recent history.
_STATS_LIFETIME = timedelta(days=8)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Window:
    """One sliding-window limit, optionally with a daily counter."""

    def __init__(self, *, r: redis.Redis, prefix: str, limit: int, window_ms: int,
                 sleep: Callable[[float], None]):
        self._redis = r
        self._prefix = prefix
        self.limit = limit
        self.window_ms = window_ms
        self._sleep = sleep
        self._script = r.register_script(_ACQUIRE_LUA)

    @property
    def _waiting_key(self) -> str:
        return f"{self._prefix}:interactive-waiting"

    def _try(self, *, day_key: str, day_limit: int, day_ttl: int,
             background: bool) -> tuple[int, int]:
        # Without a daily limit (day_limit -1) the script never touches the day keys.
        day_key = day_key or f"{self._prefix}:no-day"
        keys = [f"{self._prefix}:window", day_key, f"{self._prefix}:cooloff", f"{day_key}:spent",
                self._waiting_key]
        status, value = self._script(
            keys=keys,
            args=[self.limit, self.window_ms * 1000, uuid.uuid4().hex, day_limit, day_ttl,
                  1 if background else 0],
        )
        return int(status), int(value)

    def wait_for_slot(self, *, timeout: float, day_key: str = "", day_limit: int = -1,
                      day_ttl: int = 0, background: bool = False) -> tuple[int, int]:
        """Block until admitted (returns (1, 0)) or the day is spent (returns (-1|-2, n)).
        Raises LimiterBusy when no slot frees up within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        waiting_as = ""
        try:
            while True:
                status, value = self._try(day_key=day_key, day_limit=day_limit,
                                          day_ttl=day_ttl, background=background)
                if status != 0:
                    return status, value
                wait = value / 1_000_000
                remaining = deadline - time.monotonic()
                if wait > remaining:
                    raise LimiterBusy()
                if not background and not waiting_as:
                    waiting_as = self._announce_waiting(remaining)
                # A little jitter so waiters woken together don't all hit Redis at once.
                self._sleep(wait + random.uniform(0, 0.01))
        finally:
            if waiting_as:
                self._redis.zrem(self._waiting_key, waiting_as)

    def _announce_waiting(self, seconds: float) -> str:
        """Tell background callers a member is waiting, until `seconds` from now at most
        (scored in Redis's clock, like the window, so a crashed caller expires)."""
        token = uuid.uuid4().hex
        seconds_now, micros = self._redis.time()
        deadline = (seconds_now + seconds) * 1_000_000 + micros
        self._redis.zadd(self._waiting_key, {token: int(deadline)})
        self._redis.expire(self._waiting_key, int(seconds) + 60)
        return token


@dataclass
class Usage:
    """One UTC day of the shared budget, for the API budget page."""

    day: date
    total: int
    quota: int
    reserve: int
    by_area: dict[str, int] = field(default_factory=dict)
    by_member: dict[str, int] = field(default_factory=dict)
    by_job: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.total)


class ApiBudget:
    """The 4-per-second and per-day budget for one application key (client id)."""

    def __init__(
        self,
        *,
        app_key: str | None = None,
        per_second: int | None = None,
        window_ms: int | None = None,
        daily_quota: int | None = None,
        reserve: int | None = None,
        r: redis.Redis | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.app_key = app_key or conf.client_id()
        self.quota = conf.daily_quota() if daily_quota is None else daily_quota
        self.reserve = conf.interactive_reserve() if reserve is None else reserve
        self._redis = r or redis_client()
        self._clock = clock
        # A hash tag keeps every key of one application on one Redis Cluster slot,
        # which the Lua script needs.
        self._prefix = f"{conf.redis_prefix()}:{{{self.app_key}}}"
        self._window = _Window(
            r=self._redis, prefix=f"{self._prefix}:api",
            limit=conf.rate_per_second() if per_second is None else per_second,
            window_ms=conf.rate_window_ms() if window_ms is None else window_ms, sleep=sleep,
        )

    # --- keys ---------------------------------------------------------------------
    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def _day_key(self, day: date) -> str:
        return f"{self._prefix}:day:{day.isoformat()}"

    def _stats_key(self, day: date, kind: str) -> str:
        return f"{self._prefix}:stats:{day.isoformat()}:{kind}"

    def _seconds_to_keep(self, day: date) -> int:
        # Until the next 00:00 UTC plus a day, so yesterday's total stays readable.
        midnight = datetime.combine(day + timedelta(days=1), dtime.min, tzinfo=UTC)
        return max(1, int((midnight - self._clock()).total_seconds()) + 86400)

    # --- admission ----------------------------------------------------------------
    def acquire(self, *, interactive: bool, timeout: float) -> None:
        """Wait for a slot; count it against today's quota.

        Raises BudgetExhausted (nothing sent) when the day's budget for this kind
        of work is spent, QuotaExceeded when Constant Contact already said so
        today, LimiterBusy when no slot frees up within `timeout`.
        """
        day = self._today()
        day_limit = self.quota if interactive else max(0, self.quota - self.reserve)
        status, _ = self._window.wait_for_slot(
            timeout=timeout, day_key=self._day_key(day), day_limit=day_limit,
            day_ttl=self._seconds_to_keep(day), background=not interactive,
        )
        if status == 1:
            return
        self.note("budget_refused")
        if status == -2:
            raise QuotaExceeded(error_key="quota_exceeded")
        if interactive:
            raise BudgetExhausted(
                "Today's Constant Contact API quota is used up; it resets at 00:00 UTC.",
                error_key="budget_exhausted",
            )
        raise BudgetExhausted(error_key="budget_exhausted")

    def cool_off(self, milliseconds: int | None = None) -> None:
        """Constant Contact said `throttled`: every process pauses for a moment."""
        milliseconds = conf.throttle_cool_off_ms() if milliseconds is None else milliseconds
        self._redis.set(f"{self._prefix}:api:cooloff", 1, px=milliseconds)

    def mark_quota_exhausted(self) -> None:
        """Constant Contact said `quota_exceeded`: nothing more goes out until 00:00 UTC
        (its count may be ahead of ours, e.g. if something else shares the key)."""
        day = self._today()
        self._redis.set(f"{self._day_key(day)}:spent", 1, ex=self._seconds_to_keep(day))

    # --- counters -----------------------------------------------------------------
    def note(self, event: str, count: int = 1) -> None:
        """Count an event for today: throttled, quota_exceeded, server_error, denied, ..."""
        key = self._stats_key(self._today(), "events")
        pipe = self._redis.pipeline()
        pipe.hincrby(key, event, count)
        pipe.expire(key, _STATS_LIFETIME)
        pipe.execute()

    def record_call(self, *, area: str, member: str, job: str, attempts: int) -> None:
        """Attribute a call's requests (retries included) to its area, member and job."""
        if attempts <= 0:
            return
        day = self._today()
        pipe = self._redis.pipeline()
        for kind, name in (("area", area), ("member", member), ("job", job or "interactive")):
            key = self._stats_key(day, kind)
            pipe.hincrby(key, name, attempts)
            pipe.expire(key, _STATS_LIFETIME)
        pipe.execute()

    def usage(self, day: date | None = None) -> Usage:
        day = day or self._today()

        def counts(kind: str) -> dict[str, int]:
            raw = self._redis.hgetall(self._stats_key(day, kind))
            return {k.decode(): int(v) for k, v in raw.items()}

        return Usage(
            day=day,
            total=int(self._redis.get(self._day_key(day)) or 0),
            quota=self.quota,
            reserve=self.reserve,
            by_area=counts("area"),
            by_member=counts("member"),
            by_job=counts("job"),
            events=counts("events"),
        )


class TokenEndpointLimiter:
    """The token endpoint's own 1 request/second (contract §2.5), shared by all processes."""

    def __init__(self, *, app_key: str | None = None, r: redis.Redis | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        app_key = app_key or conf.client_id()
        self._window = _Window(
            r=r or redis_client(), prefix=f"{conf.redis_prefix()}:{{{app_key}}}:token",
            limit=conf.token_rate_per_second(), window_ms=conf.rate_window_ms(), sleep=sleep,
        )

    def acquire(self, *, timeout: float) -> None:
        self._window.wait_for_slot(timeout=timeout)


def api_budget() -> ApiBudget:
    return ApiBudget()


def token_limiter() -> TokenEndpointLimiter:
    return TokenEndpointLimiter()
