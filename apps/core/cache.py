"""Django's Redis cache, except that a Redis outage is a cache miss, not a 500.

Everything ccadmin keeps in the cache can be recomputed or done without: the
contacts count, the audit filter's choices, the account page's snapshot, the
sender addresses, allauth's login rate limits. So when Redis does not answer,
each operation answers as if the key were absent — `get` the default, `add`
True (nothing was there), `set` and `delete` nothing — and every cache user
degrades on its own, without a try/except at each call site.

After a failure the backend leaves Redis alone for `RETRY_AFTER_SECONDS`: a
Redis host that doesn't answer at all costs one socket timeout (2 s, set in
settings.CACHES) per process every few seconds, not one per cache call. The
failure is logged at most once a minute per process.

What this means for login rate limiting while Redis is down: allauth's limits
fail open (every attempt is allowed, and logged here), and so does TOTP's
"this code was already used" check. Refusing every sign-in instead would turn
a Redis outage into a full outage; the lockout returns with Redis
(docs/redis-outage.md).
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
import redis

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
LOG_EVERY_SECONDS = 60


def _clock() -> float:
    return time.monotonic()


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._logged_at: float | None = None

    def _call(self, operation: str, fallback, method, *args, **kwargs):
        if _clock() < self._down_until:
            return fallback
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            now = _clock()
            self._down_until = now + RETRY_AFTER_SECONDS
            if self._logged_at is None or now - self._logged_at >= LOG_EVERY_SECONDS:
                self._logged_at = now
                logger.warning(
                    "cache: Redis did not answer (%s: %r); treating the cache as empty, "
                    "next try in %d s", operation, exc, RETRY_AFTER_SECONDS,
                )
            return fallback

    def add(self, *args, **kwargs):
        # As on an empty cache: nothing was there, so the add "succeeds".
        return self._call("add", True, super().add, *args, **kwargs)

    def get(self, key, default=None, version=None):
        return self._call("get", default, super().get, key, default, version)

    def set(self, *args, **kwargs):
        return self._call("set", None, super().set, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", False, super().touch, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", False, super().delete, *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", {}, super().get_many, *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", False, super().has_key, *args, **kwargs)

    def incr(self, key, delta=1, version=None):
        result = self._call("incr", None, super().incr, key, delta, version)
        if result is None:
            raise ValueError(f"Key '{key}' not found.")  # what a miss raises
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's contract: the keys that could not be stored.
        return self._call("set_many", list(data), super().set_many, data, timeout, version)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", None, super().delete_many, *args, **kwargs)

    def clear(self):
        return self._call("clear", False, super().clear)
