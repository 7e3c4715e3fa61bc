"""The health endpoint load balancers and compose health checks probe."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.redis import redis_ping


@never_cache
@require_GET
def healthz(request: HttpRequest):
    """Is the database reachable, and Redis? The body says which is down.

    200 "ok" when both answer; 503 "unhealthy" without the database, which no page
    works without; 200 "degraded" when only Redis is down: pages still read the
    mirror and people still sign in (docs/redis-outage.md), so a load balancer
    should keep sending traffic rather than take every web process out at once.
    A Redis that doesn't answer at all costs this check its 2 s socket timeout.
    """
    checks = {"database": _database_ok(), "redis": redis_ping()}
    status = ("ok" if all(checks.values()) else "degraded" if checks["database"]
              else "unhealthy")
    body = {"status": status,
            **{name: "ok" if ok else "unreachable" for name, ok in checks.items()}}
    return JsonResponse(body, status=503 if status == "unhealthy" else 200)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False
