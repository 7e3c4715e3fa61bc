"""What the benchmarks share: a simulator process, a throwaway Django set-up
pointed at it, a connected workspace, and cleaning up after themselves."""

import os
from pathlib import Path
import re
import selectors
import signal
import subprocess
import sys
import uuid

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a file: bench/ is on the path, the project isn't

CAP_RPS = 4  # Constant Contact: 4 requests/second per application key (contract §2.5)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def readline(proc: subprocess.Popen, *, timeout: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return proc.stdout.readline()


def start_simulator(folder: Path, options: list[str], *,
                    timeout: float = 30) -> tuple[subprocess.Popen, str]:
    """`python -m ccsim` with `options` (auto-approving OAuth); the process and its URL."""
    out = open(folder / "ccsim.log", "a+")
    sim = subprocess.Popen(
        [sys.executable, "-m", "ccsim", "--auto-approve", *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=out, text=True,
    )
    line = readline(sim, timeout=timeout)
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        sim.kill()
        out.seek(0)
        raise SystemExit(f"the simulator did not start: {line!r}\n{out.read()[-4000:]}")
    return sim, found.group(1)


def stop_simulator(sim: subprocess.Popen, *, timeout: float = 10) -> None:
    sim.send_signal(signal.SIGTERM)  # with --state, it saves its file on the way out
    try:
        sim.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        sim.kill()
        sim.wait()


def embedded_or_given_redis() -> str:
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return redis_url
    from ccadmin.embedded_redis import start_embedded_redis

    return start_embedded_redis()  # stopped when this process exits


def configure_environment(*, folder: Path, base_url: str, redis_url: str, **extra: str) -> None:
    """Production-like settings for one benchmark run, pointed at its simulator."""
    from cryptography.fernet import Fernet

    os.environ.update(
        DJANGO_SETTINGS_MODULE="ccadmin.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=uuid.uuid4().hex * 2,
        DJANGO_ALLOWED_HOSTS="localhost",
        CCADMIN_VAR_DIR=str(folder),
        CCADMIN_LOG_LEVEL="WARNING",
        CCADMIN_FERNET_KEYS=Fernet.generate_key().decode(),
        REDIS_URL=redis_url,
        CC_API_BASE_URL=f"{base_url}/v3",
        CC_AUTH_BASE_URL=f"{base_url}/oauth2/default/v1",
        **extra,
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")


def django_setup(overrides: dict) -> None:
    import django
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        # Several processes may write audit events to one file: wait for the lock,
        # and take it at BEGIN so a transaction never has to upgrade a read lock.
        database.setdefault("OPTIONS", {}).update(
            timeout=30, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
        )
    django.setup()
    for name, value in overrides.items():
        setattr(settings, name, value)


def empty_database(*, force: bool = False) -> str:
    """A freshly migrated, empty database; returns its vendor.

    SQLite is a new file every run. Anything else is wiped, so its name must
    contain "bench" (unless `force`): its schema is dropped and migrated again.
    Not `flush`: it TRUNCATEs, which the append-only audit table refuses."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "sqlite":
        name = str(connection.settings_dict["NAME"])
        if "bench" not in name and not force:
            raise SystemExit(f"refusing to wipe the database {name!r}: its name must contain "
                             "'bench' (or pass --force)")
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    call_command("migrate", verbosity=0, interactive=False)
    return connection.vendor


def connect_workspace(tag: str):
    """A migrated database and a workspace connected through the simulator's OAuth
    flow; returns its admin's membership."""
    from urllib.parse import parse_qs, urlsplit

    from django.core.management import call_command
    import requests

    from apps.accounts.models import Membership, User
    from apps.accounts.services import workspace_create
    from apps.constantcontact import oauth
    from apps.constantcontact.services import connection_for

    call_command("migrate", verbosity=0, interactive=False)
    admin = User.objects.create_user(email=f"admin-{tag}@example.com", password=uuid.uuid4().hex)
    workspace = workspace_create(name=f"Benchmark {tag}", admin=admin)
    membership = Membership.objects.get(workspace=workspace, user=admin)
    url, state, verifier = oauth.oauth_start()
    answer = requests.get(url, allow_redirects=False, timeout=5)  # auto-approved
    callback = parse_qs(urlsplit(answer.headers["Location"]).query)
    if callback.get("state", [""])[0] != state:
        raise SystemExit(f"the simulator's OAuth callback is not ours: {answer.headers}")
    oauth.oauth_complete(connection=connection_for(workspace=workspace),
                         code=callback["code"][0], verifier=verifier, actor=membership)
    return membership


def forget_keys(prefix: str) -> None:
    """Leave a shared Redis as it was found."""
    try:
        from apps.core.redis import redis_client

        r = redis_client()
        for key in r.scan_iter(f"{prefix}:*"):
            r.delete(key)
    except Exception as exc:  # the measurement is already printed; don't bury it
        log(f"could not remove the benchmark's Redis keys ({prefix}:*): {exc!r}")
