"""One shared Redis connection pool for locks, the rate limiter and health checks."""

from functools import cache

from django.conf import settings
import redis


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def redis_ping() -> bool:
    try:
        return bool(redis_client().ping())
    except redis.RedisError:
        return False
