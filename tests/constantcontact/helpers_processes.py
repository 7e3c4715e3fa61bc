"""Run the Constant Contact boundary in other processes, for the cross-process tests.

Web and worker processes share the rate limiter and the refresh lock through
Redis and the tokens through the database; only separate processes show that
this holds. The test (the parent) starts a simulator in a thread, then runs this
module as child processes:

    python -m tests.constantcontact.helpers_processes migrate CONFIG
    python -m tests.constantcontact.helpers_processes setup CONFIG   -> {"workspace_id": ...}
    python -m tests.constantcontact.helpers_processes calls CONFIG   -> [outcome, ...]

CONFIG is JSON. The children get the parent's Redis (REDIS_URL) and a database
they can all see: the pytest database is an in-memory SQLite, or a PostgreSQL
database whose test data sits in an uncommitted transaction, so the parent
makes a throwaway one (`shared_database`): another PostgreSQL database when
DATABASE_URL points at PostgreSQL (CI), a SQLite file otherwise.

A `calls` child starts its threads, prints "ready", waits for "go" on stdin,
then every thread makes its calls at once; `run_workers` says "go" only when
every child is ready, so all threads across all processes start together.
"""

from collections.abc import Iterator
from contextlib import contextmanager
import json
import os
from pathlib import Path
import selectors
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.constantcontact.helpers_processes"
# Generous: a child that takes longer is stuck, and the test should say so, not hang.
CHILD_TIMEOUT = 60
# Migrating the fresh database runs every migration and waits on no lock of ours: on a
# loaded 2-core machine it overran 60 s without being stuck.
MIGRATE_TIMEOUT = 300


# --- The parent's side ------------------------------------------------------------


@contextmanager
def shared_database(folder: Path) -> Iterator[str]:
    """A DATABASE_URL every child process can use, dropped afterwards."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://", "pgsql://")):
        yield f"sqlite:///{folder / 'shared.sqlite3'}"
        return
    import psycopg

    name = f"ccadmin_xproc_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(base)
    # CREATE and DROP DATABASE from the maintenance database, as Django's test runner does.
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_env(*, database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="ccadmin.settings_test",
        DATABASE_URL=database_url,
        # The same Redis as the parent (an embedded one is reached by its socket).
        REDIS_URL=redis_url,
        CCADMIN_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    return env


def run_child(command: str, config: dict, *, env: dict[str, str]) -> object:
    """Run one child to completion; its last stdout line, parsed."""
    done = subprocess.run(
        [sys.executable, "-m", MODULE, command, json.dumps(config)], env=env, cwd=ROOT,
        capture_output=True, text=True,
        timeout=MIGRATE_TIMEOUT if command == "migrate" else CHILD_TIMEOUT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command} child failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None


def run_workers(config: dict, *, env: dict[str, str], processes: int, logs: Path) -> list[dict]:
    """`processes` children each running `config["threads"]` threads that start
    together; every call's outcome, from every thread of every child."""
    children = []
    try:
        for n in range(processes):
            stderr = open(logs / f"worker-{n}.log", "w+")
            proc = subprocess.Popen(
                [sys.executable, "-m", MODULE, "calls", json.dumps({**config, "worker": n})],
                env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=stderr, text=True,
            )
            children.append((proc, stderr))
        for proc, stderr in children:
            line = _readline(proc, timeout=CHILD_TIMEOUT)
            if line.strip() != "ready":
                raise RuntimeError(f"a worker did not get ready: {line!r}\n{_tail(stderr)}")
        for proc, _ in children:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outcomes = []
        for proc, stderr in children:
            out, _ = proc.communicate(timeout=CHILD_TIMEOUT)
            if proc.returncode != 0:
                raise RuntimeError(f"a worker failed ({proc.returncode}):\n{_tail(stderr)}")
            outcomes.extend(json.loads(out.strip().splitlines()[-1]))
        return outcomes
    finally:
        for proc, stderr in children:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            stderr.close()


def _readline(proc: subprocess.Popen, *, timeout: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return proc.stdout.readline()


def _tail(stderr) -> str:
    stderr.flush()
    stderr.seek(0)
    return stderr.read()[-4000:]


# --- The children's side ------------------------------------------------------------


def _django(config: dict) -> None:
    import django
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        # Twenty threads in four processes write audit events and tokens to one
        # file: wait for the lock instead of failing, and take it at BEGIN so a
        # transaction never has to upgrade a read lock (which can't wait).
        database.setdefault("OPTIONS", {}).update(
            timeout=30, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
        )
    django.setup()
    for name, value in config.get("settings", {}).items():
        setattr(settings, name, value)


def _migrate(config: dict) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _setup(config: dict) -> dict:
    """A workspace (admin + viewer) connected through the simulator's OAuth flow."""
    from datetime import timedelta
    from urllib.parse import parse_qs

    from django.utils import timezone
    import requests

    from apps.accounts.models import Membership, Role, User
    from apps.accounts.services import workspace_create
    from apps.constantcontact import oauth
    from apps.constantcontact.models import Connection
    from apps.constantcontact.services import connection_for

    tag = config["tag"]
    admin = User.objects.create_user(email=f"admin-{tag}@example.com", password="x" * 12)
    workspace = workspace_create(name=f"Cross-process {tag}", admin=admin)
    viewer = User.objects.create_user(email=f"viewer-{tag}@example.com", password="x" * 12)
    viewing = Membership.objects.create(
        workspace=workspace, user=viewer,
        role=Role.objects.get(workspace=workspace, preset="viewer"),
    )
    url, state, verifier = oauth.oauth_start()
    answer = requests.get(url, allow_redirects=False, timeout=5)  # the simulator auto-approves
    callback = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert callback["state"][0] == state
    connection = oauth.oauth_complete(
        connection=connection_for(workspace=workspace), code=callback["code"][0],
        verifier=verifier, actor=Membership.objects.get(workspace=workspace, user=admin),
    )
    if config.get("expire_locally"):
        # Our row says the access token has expired: the next call must refresh first.
        connection.access_expires_at = timezone.now() - timedelta(seconds=1)
        connection.save(update_fields=["access_expires_at"])
    connection = Connection.objects.get(pk=connection.pk)
    return {"workspace_id": workspace.pk, "membership_id": viewing.pk,
            "token_version": connection.token_version}


def _calls(config: dict) -> list[dict]:
    from django.db import connections

    from apps.accounts.models import Membership
    from apps.constantcontact.errors import ConstantContactError
    from apps.constantcontact.gate import Actor, gate_for
    from apps.constantcontact.models import Connection

    membership = Membership.objects.select_related("workspace").get(pk=config["membership_id"])
    workspace = membership.workspace
    connections.close_all()  # each thread opens its own
    go = threading.Event()
    outcomes: list[dict] = []
    lock = threading.Lock()

    def thread(number: int) -> None:
        go.wait()
        cc = gate_for(workspace=workspace, actor=Actor.member(membership))
        mine = []
        try:
            for _ in range(config["calls"]):
                started = time.time()
                try:
                    result = cc.call(config["operation"], params=config.get("params"))
                except ConstantContactError as exc:
                    mine.append({"ok": False, "error": repr(exc), "error_key": exc.error_key,
                                 "status": exc.status, "attempts": exc.attempts,
                                 "started": started, "ended": time.time()})
                except Exception as exc:  # a bug: report it with the rest, don't lose the thread
                    mine.append({"ok": False, "error": repr(exc), "error_key": "",
                                 "status": None, "attempts": 0, "started": started,
                                 "ended": time.time()})
                else:
                    mine.append({"ok": True, "status": result.status,
                                 "attempts": result.attempts, "started": started,
                                 "ended": time.time()})
            version = Connection.objects.get(workspace=workspace).token_version
            for outcome in mine:
                outcome.update(worker=config["worker"], thread=number, token_version=version)
        finally:
            connections.close_all()
            with lock:
                outcomes.extend(mine)

    threads = [threading.Thread(target=thread, args=(n,)) for n in range(config["threads"])]
    for t in threads:
        t.start()
    print("ready", flush=True)
    sys.stdin.readline()
    go.set()
    for t in threads:
        t.join()
    return outcomes


def main(argv: list[str]) -> None:
    command, config = argv[0], json.loads(argv[1])
    _django(config)
    result = {"migrate": _migrate, "setup": _setup, "calls": _calls}[command](config)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
