"""Fixtures for the fault suite: real Celery workers against a live simulator.

    def test_it(connected_world, upstream, start_worker):
        worker = start_worker()          # `celery -A ccadmin worker`, ready to take tasks
        upstream.misbehave(**TEN_PERCENT_FAULTS)
        ...                              # start a sync or a schedule: it goes to the broker
        worker.kill()                    # SIGKILL to its whole process group
        start_worker()                   # a new one

The worker is a separate process, so it must see what the test wrote: the tests
run on a committed (`transactional_db`) PostgreSQL database. With the default
in-memory SQLite they are skipped with the reason, except under CI (CI=true),
where a missing prerequisite fails the run.

The worker gets the test's settings by environment, read when it starts: the same
settings module (ccadmin.settings_test, with its Fernet key), the test database by
name, the same Redis, cache key prefix and broker keys, the simulator's address
and the Constant Contact knobs the fixtures set, and short leases so a killed
worker's job is reclaimed in seconds. The test process enqueues to the real broker
(`task_always_eager` is off inside these tests) and calls the reclaimer itself
instead of running beat. Every worker is killed when the test ends, pass or fail.
"""

import os
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings as django_settings
from django.db import connection
import pytest

from apps.core.redis import redis_client
from tests.contacts.conftest import (  # noqa: F401 — pytest finds fixtures by name
    connected_world,
    sim,
    sim_contacts,
    sim_settings,
)
from tests.faults.upstream import Upstream
from tests.faults.worker import CeleryWorker

# "10% 5xx, timeouts and 429s" (issue 9): a tenth of the requests each. A timeout is
# the simulator hanging, then dropping the connection without an answer; the
# client sees it exactly as it sees its own read timeout (outcome unknown), only
# sooner than its 30-second limit, which keeps the tests fast.
TEN_PERCENT_FAULTS = {"error_rate_500": 0.05, "error_rate_503": 0.05, "timeout_rate": 0.10,
                      "timeout_seconds": 0.5, "throttle_rate": 0.10}

# Seconds. A send job's lease is renewed every third of it by a heartbeat thread: short,
# so a killed worker's job is reclaimed within a test, with a second or two to spare
# for a busy machine. The sync lock is renewed after every page, and a page under
# TEN_PERCENT_FAULTS may take several seconds of hangs and backoff: a test that
# kills a sync shortens it (settings.CCADMIN_SYNC_LOCK_SECONDS) before its worker starts.
LEASE_SECONDS = 3
SYNC_LOCK_SECONDS = 30
QUEUED_GRACE_SECONDS = 5

# Settings the worker must share with the test process, passed by environment
# (each is read with ccadmin.env in ccadmin/settings.py).
SHARED_SETTINGS = (
    "CC_API_BASE_URL", "CC_AUTH_BASE_URL", "CC_CLIENT_ID", "CC_CLIENT_SECRET",
    "CC_REDIRECT_URI", "CC_RATE_PER_SECOND", "CC_TOKEN_RATE_PER_SECOND",
    "CC_THROTTLE_COOL_OFF_MS", "CC_REDIS_PREFIX", "CC_MAX_ATTEMPTS",
    "CCADMIN_JOB_LEASE_SECONDS", "CCADMIN_JOB_QUEUED_GRACE_SECONDS",
    "CCADMIN_SYNC_LOCK_SECONDS",
)


def _missing_prerequisite() -> str | None:
    engine = django_settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return ("the fault suite's Celery workers need a database a second process can "
                "open: set DATABASE_URL to a PostgreSQL server (the default in-memory "
                "SQLite is private to this process)")
    return None


@pytest.fixture(autouse=True)
def _shared_database_required():
    reason = _missing_prerequisite()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Under CI the fault suite must run, but {reason}")
        pytest.skip(reason)


def _empty(*prefixes: str) -> None:
    client = redis_client()
    for prefix in prefixes:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def fault_settings(settings, sim_settings):  # noqa: F811 — the fixture above
    settings.CCADMIN_JOB_LEASE_SECONDS = LEASE_SECONDS
    settings.CCADMIN_JOB_QUEUED_GRACE_SECONDS = QUEUED_GRACE_SECONDS
    settings.CCADMIN_SYNC_LOCK_SECONDS = SYNC_LOCK_SECONDS
    # Redis keys of this process's own (leases live under the cache prefix, sync locks
    # under CC_REDIS_PREFIX): another test run on the same Redis empties "test-main:*"
    # and "cc-contacts-test-main:*" before each of its tests, which would take a lease
    # or a lock from under a worker here.
    own = f"faults-{os.getpid()}"
    settings.CACHES = {**settings.CACHES,
                       "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{own}"}}
    settings.CC_REDIS_PREFIX = f"cc-{own}"
    _empty(f"test-{own}:", f"cc-{own}:")
    yield settings
    _empty(f"test-{own}:", f"cc-{own}:")


@pytest.fixture
def real_broker():
    """Tasks go to Redis for a worker to take, not run in place; the broker's keys
    (this run's own prefix, ccadmin/settings_test.py) are emptied before and after."""
    app = current_app._get_current_object()
    prefix = app.conf.broker_transport_options["global_keyprefix"]
    was_eager = app.conf.task_always_eager
    _empty(prefix)
    app.conf.task_always_eager = False
    yield prefix
    app.conf.task_always_eager = was_eager
    _empty(prefix)


def worker_environment(broker_prefix: str) -> dict[str, str]:
    # The test database pytest-django created (test_<name>), on the same server.
    database = urlsplit(os.environ["DATABASE_URL"])
    database_url = database._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ccadmin.settings_test",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ["REDIS_URL"],  # settings_test set it to the embedded one if unset
        "CCADMIN_TEST_BROKER_PREFIX": broker_prefix,
        "CCADMIN_TEST_CACHE_PREFIX": django_settings.CACHES["default"]["KEY_PREFIX"],
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
    }
    for name in SHARED_SETTINGS:
        env[name] = str(getattr(django_settings, name))
    return env


@pytest.fixture
def start_worker(transactional_db, fault_settings, real_broker, tmp_path):
    """start_worker() -> a CeleryWorker, started and ready. All are killed at the end."""
    workers: list[CeleryWorker] = []

    def start() -> CeleryWorker:
        worker = CeleryWorker(env=worker_environment(real_broker),
                              log_path=tmp_path / f"worker-{len(workers) + 1}.log",
                              name=f"faults-{len(workers) + 1}-{os.getpid()}")
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.kill()


@pytest.fixture
def upstream(sim):  # noqa: F811 — the fixture above
    spy = Upstream(sim)
    yield spy
    spy.restore()
