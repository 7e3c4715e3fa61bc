"""The health endpoint load balancers and compose health checks probe."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.redis import redis_ping


@never_cache
@require_GET
def healthz(request: HttpRequest):
    """Is the database reachable, and Redis? 200 when both answer, 503 otherwise."""
    checks = {"database": _database_ok(), "redis": redis_ping()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unhealthy",
            **{name: "ok" if ok else "unreachable" for name, ok in checks.items()}}
    return JsonResponse(body, status=200 if healthy else 503)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False
