"""The shared Constant Contact call budget, kept in Redis for every web and worker process.

Constant Contact counts 4 requests/second and 10,000/day per application key,
across every connected account and process (contract §2.5), and tells nobody
how much is left: no headers, no Retry-After. So we count ourselves:

- admission slots, reserved in advance: one Lua script, timed by Redis's own
  clock (so processes with skewed clocks still agree), gives each caller the
  earliest slot that is at least a *gap* after the previous one and a whole
  *window* after the 4th-previous one, records it, and tells the caller how long
  to sleep until it. Each caller wakes at its own slot: nobody polls, so no
  herd of waiters and no admission later than it had to be. Why these numbers
  and why they yield no 429: docs/rate-limiter.md;
- a daily counter keyed by the UTC date, so it resets at 00:00 UTC; the last
  part of the day's quota (the *reserve*) is kept for interactive work, and a
  background call that would eat into it is refused before it is sent;
- a shared cool-off after a 429 `throttled`, honoured by every process, and a
  "spent for today" flag after a 429 `quota_exceeded` (backing off won't clear it);
- interactive work first: a member's call reserves the earliest slot at once,
  while background work may reserve only slots less than half a window ahead
  and otherwise asks again later, so a member never queues behind a long sync;
- a separate 1-per-second schedule for the token endpoint.

When Redis does not answer, admission raises LimiterUnavailable: nothing is sent,
since no process could know what the others spend.

Counters for the API budget page (calls by area, member and job; throttles,
errors, refusals) are Redis hashes keyed by date; they are best effort.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
import logging
import random
import time
import uuid

import redis

from apps.constantcontact import conf
from apps.constantcontact.errors import (
    BudgetExhausted,
    LimiterBusy,
    LimiterUnavailable,
    QuotaExceeded,
)
from apps.core.redis import redis_client

logger = logging.getLogger(__name__)

# KEYS: 1 slots (a sorted set of reserved admission times, µs), 2 day counter,
#       3 cool-off flag, 4 "quota spent today" flag
# ARGV: 1 calls per window, 2 window (µs), 3 least gap between two calls (µs),
#       4 unique member, 5 day limit (-1: none), 6 day-key lifetime (s),
#       7 how far ahead this caller may reserve (µs), 8 how long it may wait (µs)
# Returns {1, wait}: reserved, go in `wait` µs; {0, retry, wait}: not reserved, the
# earliest slot is `wait` µs away, ask again in `retry` µs; {-1, used}: the day
# budget is spent; {-2, 0}: Constant Contact said the day's quota is spent.
_RESERVE_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local day_limit = tonumber(ARGV[5])
if day_limit >= 0 then
  if redis.call('EXISTS', KEYS[4]) == 1 then return {-2, 0} end
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= day_limit then return {-1, used} end
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local slot = now
local cool = redis.call('PTTL', KEYS[3])
if cool > 0 then slot = now + cool * 1000 end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then slot = math.max(slot, tonumber(last[2]) + tonumber(ARGV[3])) end
if redis.call('ZCARD', KEYS[1]) >= limit then
  local nth = redis.call('ZRANGE', KEYS[1], -limit, -limit, 'WITHSCORES')
  slot = math.max(slot, tonumber(nth[2]) + window)
end
local wait = slot - now
if wait > tonumber(ARGV[8]) then return {0, wait, wait} end
if wait > tonumber(ARGV[7]) then return {0, wait - tonumber(ARGV[7]), wait} end
-- Scores go through string.format: Lua prints big numbers with 14 digits otherwise.
redis.call('ZADD', KEYS[1], string.format('%d', slot), ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(limit + 1))
redis.call('PEXPIRE', KEYS[1], math.ceil((wait + window) / 1000) + 1000)
if day_limit >= 0 then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
end
return {1, wait}
"""

# Keep a day's counters for a week, for the budget page's recent history.
_STATS_LIFETIME = timedelta(days=8)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Window:
    """At most `limit` calls in any `window_ms`, each at least window/(limit + 1) after
    the one before (so calls are spread over the window, never sent in a burst, yet a
    caller that fell behind may catch up a little), optionally with a daily counter."""

    def __init__(self, *, r: redis.Redis, prefix: str, limit: int, window_ms: int,
                 sleep: Callable[[float], None]):
        self._redis = r
        self._prefix = prefix
        self.limit = max(1, limit)
        self.window_ms = window_ms
        self._sleep = sleep
        self._script = r.register_script(_RESERVE_LUA)

    @property
    def gap_us(self) -> int:
        return self.window_ms * 1000 // (self.limit + 1)

    def _try(self, *, day_key: str, day_limit: int, day_ttl: int, ahead_us: int,
             max_wait_us: int) -> list[int]:
        # Without a daily limit (day_limit -1) the script never touches the day keys.
        day_key = day_key or f"{self._prefix}:no-day"
        keys = [f"{self._prefix}:window", day_key, f"{self._prefix}:cooloff", f"{day_key}:spent"]
        try:
            answer = self._script(
                keys=keys,
                args=[self.limit, self.window_ms * 1000, self.gap_us, uuid.uuid4().hex,
                      day_limit, day_ttl, ahead_us, max_wait_us],
            )
        except redis.RedisError as exc:
            logger.warning("cc rate limiter: Redis did not answer (%r); nothing sent", exc)
            raise LimiterUnavailable() from exc
        return [int(value) for value in answer]

    def wait_for_slot(self, *, timeout: float, day_key: str = "", day_limit: int = -1,
                      day_ttl: int = 0, background: bool = False) -> tuple[int, int]:
        """Block until this caller's slot (returns (1, 0)) or the day is spent (returns
        (-1|-2, n)). Raises LimiterBusy when no slot is free within `timeout` seconds,
        LimiterUnavailable when Redis does not answer."""
        deadline = time.monotonic() + timeout
        # Background work reserves at most half a window ahead: the slots after that
        # stay free for a member who comes along meanwhile.
        ahead_us = self.window_ms * 1000 // 2
        while True:
            max_wait_us = max(0, int((deadline - time.monotonic()) * 1_000_000))
            status, value, *rest = self._try(
                day_key=day_key, day_limit=day_limit, day_ttl=day_ttl,
                ahead_us=ahead_us if background else max_wait_us, max_wait_us=max_wait_us,
            )
            if status == 1:
                if value > 0:
                    self._sleep(value / 1_000_000)
                return 1, 0
            if status != 0:
                return status, value
            if rest[0] > max_wait_us:
                raise LimiterBusy()
            # A little jitter so background callers asking together don't all come back
            # at once; their slot is reserved only when they do.
            self._sleep(value / 1_000_000 + random.uniform(0, 0.01))


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
        today, LimiterBusy when no slot frees up within `timeout`,
        LimiterUnavailable when Redis does not answer.
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

    # After a call has been answered, Redis going away must not turn its outcome into
    # an error: what follows is written if Redis answers and logged if it doesn't.
    # (Admission can't be refused any more by then, and with Redis down nothing
    # else is admitted either.)

    def cool_off(self, milliseconds: int | None = None) -> None:
        """Constant Contact said `throttled`: every process pauses for a moment."""
        milliseconds = conf.throttle_cool_off_ms() if milliseconds is None else milliseconds
        try:
            self._redis.set(f"{self._prefix}:api:cooloff", 1, px=milliseconds)
        except redis.RedisError as exc:
            logger.warning("cc rate limiter: could not set the cool-off: %r", exc)

    def mark_quota_exhausted(self) -> None:
        """Constant Contact said `quota_exceeded`: nothing more goes out until 00:00 UTC
        (its count may be ahead of ours, e.g. if something else shares the key)."""
        day = self._today()
        try:
            self._redis.set(f"{self._day_key(day)}:spent", 1, ex=self._seconds_to_keep(day))
        except redis.RedisError as exc:
            logger.warning("cc rate limiter: could not mark the quota spent: %r", exc)

    # --- counters -----------------------------------------------------------------
    def note(self, event: str, count: int = 1) -> None:
        """Count an event for today: throttled, quota_exceeded, server_error, denied, ..."""
        key = self._stats_key(self._today(), "events")
        pipe = self._redis.pipeline()
        pipe.hincrby(key, event, count)
        pipe.expire(key, _STATS_LIFETIME)
        self._best_effort(pipe, what=event)

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
        self._best_effort(pipe, what="calls")

    def member_calls_today(self, member: str) -> int:
        """Requests attributed to `member` (a user id, or an agent's key) today."""
        return int(self._redis.hget(self._stats_key(self._today(), "member"), member) or 0)

    @staticmethod
    def _best_effort(pipe, *, what: str) -> None:
        try:
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("cc budget counters: %s not counted: %r", what, exc)

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
    """The token endpoint's own 1 request/second (contract §2.5), shared by all processes.
    Raises LimiterBusy or LimiterUnavailable like the API budget."""

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
