"""/healthz: what load balancers and compose health checks ask before sending traffic."""

import socket

from django.db import connection
import pytest

from apps.core.redis import redis_client


@pytest.fixture
def redis_unreachable(settings):
    """Point the shared Redis client at a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{dead_port}/0"
    redis_client.cache_clear()
    yield
    redis_client.cache_clear()


@pytest.mark.django_db
def test_it_answers_ok_when_the_database_and_redis_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_it_says_redis_is_unreachable_but_keeps_the_site_in_service(client, redis_unreachable):
    # Pages still work from the mirror without Redis: a load balancer must not take
    # every web process out of service because of it.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "unreachable"}


@pytest.mark.django_db
def test_it_answers_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("the database went away")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    monkeypatch.undo()  # before pytest-django needs the connection back

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.django_db
def test_it_needs_no_login_and_is_never_cached(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_load_balancers_may_probe_it_over_plain_http(client, settings):
    # Production redirects every other page to HTTPS; a probe over HTTP must not be.
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301
