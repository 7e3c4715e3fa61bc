"""Redis stops answering, for the tests of what still works without it.

`redis_down` is a fixture (a conftest imports it: tests/core/conftest.py);
`redis_stopped(settings)` is the same as a context manager, for a module that
defines its own. Every Redis user then points at a port where nothing listens —
the shared client (rate limiter, locks, /healthz) and Django's cache (login rate
limits, cached counts and choices) — so each connection is refused at once, as
when Redis is stopped or restarting.
"""

from collections.abc import Iterator
from contextlib import contextmanager
import socket

import pytest

from apps.core.redis import redis_client


@contextmanager
def redis_stopped(settings) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{dead_port}/0"
    settings.REDIS_URL = url
    # Assigning CACHES makes Django build new cache objects, now and when it is undone.
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    redis_client.cache_clear()
    try:
        yield url
    finally:
        redis_client.cache_clear()


@pytest.fixture
def redis_down(settings) -> Iterator[str]:
    with redis_stopped(settings) as url:
        yield url
