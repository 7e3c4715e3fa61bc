"""A load test: 50 members browse the dashboard while a contacts sync runs.

    .venv/bin/pip install 'locust>=2.32'    # once; or: .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load.py                           # 50 members, 60 s, 5,000 contacts
    .venv/bin/python bench/load.py --users 10 --duration 20  # a quick check
    .venv/bin/python bench/load.py --contacts 100000 --sync incremental

Production-like and all throwaway: a PostgreSQL database created for the run and
dropped after it (--database-url, default ccadmin_bench_load on the local server;
its name must contain "bench"); Redis (REDIS_URL if set, else 127.0.0.1:6379),
every key of the run under a prefix of its own, deleted afterwards (the cache's,
the rate limiter's and locks', and Celery's queues through kombu's
`global_keyprefix`, set by a two-line settings module that imports
ccadmin.settings); the simulator (`python -m ccsim`, seeded with --contacts
contacts, Constant Contact's real 4 requests/second); gunicorn serving
`ccadmin.wsgi` with --workers processes (4), DJANGO_DEBUG=false, whitenoise over
a collectstatic into a temporary folder; and a Celery worker (2 processes, as
docker-compose.yml runs it).

Set-up: migrate, a workspace connected through the simulator's OAuth flow, one
member per simulated user (viewers, editors and approvers; one password hash
shared: PBKDF2 takes some 0.45 s a password here), a full contacts
and a campaigns sync run by the worker so pages have data, ANALYZE, and a few
warm-up requests so no member pays for a worker's first template compile.

The measurement (Locust, headless, in a child process because importing Locust
monkey-patches the whole process with gevent) has two phases. Signing in:
--users members start at --spawn-rate a second and each signs in through the
login form (a real sign-in: CSRF token, password check, session, the landing
page and its static files, once). Browsing, measured for --duration seconds once
all have signed in: with --think-min to --think-max seconds between steps, the
contacts list, then searching (typed, as the search box sends it), filtering by
list or tag, sorting and the next page, as htmx fragments (`HX-Request`) the way
the page asks for them, then a contact's page; lists and a list's page; tags;
the campaigns list and a campaign's page; the API budget page and its htmx
poll; now and then the overview. One more member, an admin, keeps a contacts
sync running the way a member does: presses "Sync now" on the sync page,
watches its progress (the page's htmx poll every CCADMIN_POLL_SECONDS), and
starts the next one a moment after it ends (--sync full, incremental or none).
Every request must answer exactly what a browser expects (200, a fragment for
htmx, 302 only where a redirect is the answer): anything else is an error.

The sign-ins are measured apart because fifty people signing in within seconds
is how a test starts, not how a working day goes (a session lasts 12 hours),
and a password check is slow on purpose (PBKDF2): mixed in, they would measure
the start of the test rather than the browsing.

gunicorn sits behind the TLS proxy production has (DJANGO_BEHIND_TLS_PROXY),
which Locust plays: each member sends X-Forwarded-Proto and an X-Forwarded-For
of its own, as members at their own desks would. Without it every member would
share 127.0.0.1 and allauth's 30 sign-ins a minute per address would refuse
the 31st. Cookies are not marked Secure (the load generator speaks plain HTTP
where the proxy would).

One JSON line per page and phase, then one for the whole browsing phase, one per
kind of error, and one for the background work (progress goes to stderr):

    phase       sign-in (its sign-in and static lines only) | browsing
    page        what was requested (the names in PAGE_KINDS; htmx fragments say so)
    kind        page | htmx | action | sign-in | static
    requests, errors          requests made and how many failed
    p50_ms, p95_ms, max_ms    response time at the client, from Locust's statistics
                              (which keep times over 100 ms to 10 ms, over 1 s to 100 ms)
    rps                       requests a second over the phase

The "overall" line is the browsing phase's pages, htmx fragments and actions (a
member who had to sign in again meanwhile, or static files, are not in it).
Its `errors_all` counts every failed request of both phases; `goal_met` is
p95_ms <= 200 with errors_all == 0 (issue 9); `signed_in` is how many of the
simulated people got in. The "error" lines say which page failed how. The
"background" line: the sync runs that ran while members browsed, how they ended,
their API calls and mean length, and `busy_share`, the part of the browsing
phase a sync was running (a full sync of 5,000 contacts lasts about 4 s, and the
admin sees it end at the next 3 s poll: about half; more contacts, more). On the
overall line, `server_log_errors` counts ERROR lines and tracebacks in the
gunicorn and Celery logs (the first few go to stderr; --keep-logs keeps the files).
"""

import argparse
from datetime import UTC, datetime
import html
import importlib.util
import json
import os
from pathlib import Path
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit
import uuid

from harness import (
    CAP_RPS,
    ROOT,
    configure_environment,
    connect_workspace,
    django_setup,
    log,
    start_simulator,
    stop_simulator,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ccadmin_bench_load"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
GOAL_P95_MS = 200
INSTALL_HINT = ("Locust is not installed. Install it into the virtual environment:\n"
                "    .venv/bin/pip install 'locust>=2.32'\n"
                "(or `.venv/bin/pip install -e '.[bench]'`, the `bench` extra of pyproject.toml; "
                "it is not in requirements.lock, so the test command does not install it)")
CELERY_CONCURRENCY = 2  # docker-compose.yml's default (CELERY_WORKER_CONCURRENCY)
LOGIN_PATH = "/accounts/login/"

# What each request name is; the overall line counts MEASURED kinds only.
PAGE_KINDS = {
    "sign in: form": "sign-in",
    "sign in: submit": "sign-in",
    "sign in: landing redirect": "sign-in",
    "static files": "static",
    "overview": "page",
    "contacts": "page",
    "contacts searched (htmx)": "htmx",
    "contacts filtered by list (htmx)": "htmx",
    "contacts filtered by tag (htmx)": "htmx",
    "contacts sorted (htmx)": "htmx",
    "contacts next page (htmx)": "htmx",
    "contacts filtered by list": "page",
    "contacts filtered by tag": "page",
    "contact": "page",
    "lists": "page",
    "list": "page",
    "tags": "page",
    "campaigns": "page",
    "campaign": "page",
    "API budget": "page",
    "API budget poll (htmx)": "htmx",
    # REPORTS: not built yet; their page names go here (see browse_reports below).
    "sync page": "page",
    "sync start (POST)": "action",
    "sync status poll (htmx)": "htmx",
    # IMPORT: not built yet; its page names go here (see the admin's task below).
}
MEASURED = {"page", "htmx", "action"}
SORTS = ("name", "-name", "-updated", "-created", "email")

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CONTACT_LINK = re.compile(r'href="(/w/[\w-]+/contacts/\d+/)"')
LIST_LINK = re.compile(r'href="(/w/[\w-]+/lists/\d+/)"')
CAMPAIGN_LINK = re.compile(r'href="(/w/[\w-]+/campaigns/\d+/)"')
NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')
SYNC_STATUS_LINK = re.compile(r'hx-get="(/w/[\w-]+/sync/\d+/status/)"')
STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]+)"')
# Django's "ERROR django.request ...", gunicorn's "[ERROR]", Celery's "ERROR/ForkPoolWorker".
SERVER_ERROR = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")


# --- The members (the Locust child process only) -------------------------------------


def locust_users(config: dict, arrived: list) -> list[type]:
    """The simulated people, as Locust user classes; each appends to `arrived` once it
    has tried to sign in. Importing Locust monkey-patches the process with gevent,
    so only the child process calls this."""
    import ipaddress
    from itertools import count

    import gevent
    from locust import HttpUser, between, task

    host, ws = config["host"], config["workspace_path"]
    origin = "https://" + urlsplit(host).netloc  # what the browser sees behind the proxy
    think = between(config["think_min"], config["think_max"])
    seats = count()  # each user's own address; gevent runs one greenlet at a time
    member_seats = count()  # each member takes the next account (the admin has its own)
    first_address = ipaddress.ip_address("10.20.0.1")

    class Person(HttpUser):
        abstract = True
        wait_time = think
        email = ""

        def on_start(self) -> None:
            # The proxy's headers: HTTPS as far as Django knows, and a desk of its own.
            self.client.headers.update({
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": str(first_address + next(seats)),
                "User-Agent": "ccadmin-bench-load (Locust)",
            })
            self.here = "/"
            self.signed_in = self.sign_in()
            arrived.append(self.signed_in)

        # Requests ----------------------------------------------------------------
        def request(self, name: str, path: str, *, method: str = "GET", expect=(200,),
                    htmx: bool = False, marker: str = "", redirect_to: str = "", **kwargs):
            """One request that must answer as a browser expects (`expect`; a redirect
            to `redirect_to`; `marker` in the body); the response, or None after
            recording why it failed."""
            headers = kwargs.pop("headers", {})
            if htmx:
                headers = {**headers, "HX-Request": "true", "HX-Current-URL": origin + self.here}
            if method == "POST":
                headers = {**headers, "Origin": origin, "Referer": origin + self.here}
            with self.client.request(method, path, name=name, headers=headers,
                                     allow_redirects=False, catch_response=True,
                                     **kwargs) as response:
                problem = None
                if response.status_code not in expect:
                    problem = status_problem(response)
                elif redirect_to and urlsplit(
                        response.headers.get("Location", "")).path != redirect_to:
                    problem = status_problem(response)  # e.g. back to the sign-in page
                elif htmx and response.status_code == 200 and "<html" in response.text[:300]:
                    problem = "htmx asked for a fragment and got a whole page"
                elif marker and marker not in response.text:
                    problem = f"the answer lacks {marker!r}"
                if problem:
                    response.failure(problem)
                    return None
                response.success()
            if method == "GET" and not htmx and response.status_code == 200:
                self.here = path
            return response

        def page(self, name: str, path: str, **kwargs) -> str | None:
            response = self.request(name, path, **kwargs)
            return response.text if response is not None else None

        def sign_in(self) -> bool:
            form = self.page("sign in: form", LOGIN_PATH, marker="csrfmiddlewaretoken")
            token = form and CSRF_TOKEN.search(form)
            if not token:
                return False
            answer = self.request(
                "sign in: submit", LOGIN_PATH, method="POST", expect=(302,), redirect_to="/",
                data={"csrfmiddlewaretoken": token.group(1), "login": self.email,
                      "password": config["password"]})
            if answer is None:
                return False
            # LOGIN_REDIRECT_URL, which sends a member of one workspace on to it.
            landing = self.request("sign in: landing redirect", "/", expect=(302,),
                                   redirect_to=ws)
            if landing is None:
                return False
            overview = self.page("overview", ws)
            if overview is None:
                return False
            # An empty browser cache: the page's CSS and scripts, once.
            for asset in dict.fromkeys(STATIC_LINK.findall(overview)):
                self.request("static files", asset)
            return True

        def ensure_signed_in(self) -> bool:
            if not self.signed_in:
                self.signed_in = self.sign_in()
            return self.signed_in

    class Member(Person):
        """Browses: most of the time the contacts, sometimes the rest."""

        def on_start(self) -> None:
            members = config["members"]
            self.email = members[next(member_seats) % len(members)]
            super().on_start()

        def contacts_fragment(self, name: str, state: dict) -> str | None:
            # The filter form serializes every field, as htmx sends it.
            params = {"q": state.get("q", ""), "list": state.get("list", ""),
                      "tag": state.get("tag", ""), "status": "", "sort": state.get("sort", "email")}
            return self.page(name, ws + "contacts/", params=params, htmx=True,
                             marker='id="contact-results"')

        @task(10)
        def browse_contacts(self) -> None:
            if not self.ensure_signed_in():
                return
            found = self.page("contacts", ws + "contacts/", marker='id="contact-results"')
            if found is None:
                return
            state: dict = {}
            for _ in range(random.randint(1, 3)):
                self.wait()
                step = random.choices(("search", "list", "tag", "sort", "next"),
                                      weights=(4, 2, 2, 1, 2))[0]
                if step == "search":
                    term = random.choice(config["search_terms"])
                    # Typed: the box sends after a 300 ms pause, often mid-word.
                    if len(term) > 3 and random.random() < 0.5:
                        state["q"] = term[:3]
                        self.contacts_fragment("contacts searched (htmx)", state)
                        gevent.sleep(random.uniform(0.4, 1.2))
                    state["q"] = term
                    answer = self.contacts_fragment("contacts searched (htmx)", state)
                elif step == "list":
                    state["list"] = random.choice(config["list_ids"])
                    answer = self.contacts_fragment("contacts filtered by list (htmx)", state)
                elif step == "tag":
                    state["tag"] = random.choice(config["tag_ids"])
                    answer = self.contacts_fragment("contacts filtered by tag (htmx)", state)
                elif step == "sort":
                    state["sort"] = random.choice(SORTS)
                    answer = self.contacts_fragment("contacts sorted (htmx)", state)
                else:
                    link = NEXT_LINK.search(found)
                    answer = link and self.page(
                        "contacts next page (htmx)",
                        ws + "contacts/" + html.unescape(link.group(1)), htmx=True,
                        marker='id="contact-results"')
                found = answer or found
            links = CONTACT_LINK.findall(found)
            if links and random.random() < 0.7:
                self.wait()
                self.page("contact", random.choice(links))

        @task(3)
        def browse_lists(self) -> None:
            if not self.ensure_signed_in():
                return
            found = self.page("lists", ws + "lists/")
            links = LIST_LINK.findall(found or "")
            if not links:
                return
            self.wait()
            chosen = random.choice(links)
            self.page("list", chosen)
            if random.random() < 0.4:  # "Search, sort and filter these contacts"
                self.wait()
                list_id = chosen.rstrip("/").rsplit("/", 1)[1]
                self.page("contacts filtered by list", ws + f"contacts/?list={list_id}",
                          marker='id="contact-results"')

        @task(2)
        def browse_tags(self) -> None:
            if not self.ensure_signed_in():
                return
            if self.page("tags", ws + "tags/") is not None and random.random() < 0.5:
                self.wait()
                self.page("contacts filtered by tag",
                          ws + f"contacts/?tag={random.choice(config['tag_ids'])}",
                          marker='id="contact-results"')

        @task(4)
        def browse_campaigns(self) -> None:
            if not self.ensure_signed_in():
                return
            links = CAMPAIGN_LINK.findall(self.page("campaigns", ws + "campaigns/") or "")
            if links:
                self.wait()
                self.page("campaign", random.choice(links))

        @task(1)
        def watch_budget(self) -> None:
            if not self.ensure_signed_in():
                return
            if self.page("API budget", ws + "constant-contact/budget/") is None:
                return
            for _ in range(random.randint(1, 2)):  # the figures poll while the page is open
                gevent.sleep(config["poll_seconds"])
                self.page("API budget poll (htmx)", ws + "constant-contact/budget/", htmx=True)

        @task(1)
        def overview(self) -> None:
            if self.ensure_signed_in():
                self.page("overview", ws)

        # --- REPORTS: NOT BUILT YET ---------------------------------------------------
        # Issue 9 has members browse reports too. When the Reports area lands, add a
        # journey here, e.g. @task(3) browse_reports: the reports index, then one
        # campaign's report (and its htmx parts), with their names in PAGE_KINDS.
        # Until then members skip the area's placeholder page: it measures nothing.

    class Admin(Person):
        """Keeps background work running, the way a member would start it."""

        fixed_count = 1
        email = config["admin"]
        # The next sync a moment after the last one ended, so one runs nearly all along.
        wait_time = between(0.5, 1.5)

        @task
        def keep_a_sync_running(self) -> None:
            if not self.ensure_signed_in():
                return
            sync_page = ws + "sync/"
            found = self.page("sync page", sync_page, marker="csrfmiddlewaretoken")
            token = found and CSRF_TOKEN.search(found)
            if not token:
                return
            started = self.request(
                "sync start (POST)", sync_page + "start/", method="POST", expect=(302,),
                redirect_to=sync_page,
                data={"csrfmiddlewaretoken": token.group(1), "kind": config["sync"]})
            if started is None:
                return
            found = self.page("sync page", sync_page) or ""
            status = SYNC_STATUS_LINK.search(found)
            # The page polls while the run is queued or running; 286 means it ended.
            while status:
                gevent.sleep(config["poll_seconds"])
                answer = self.request("sync status poll (htmx)", status.group(1),
                                      expect=(200, 286), htmx=True)
                if answer is None or answer.status_code == 286:
                    break

            # --- IMPORT: NOT BUILT YET ------------------------------------------------
            # Issue 9 runs an import alongside the sync. When bulk jobs land, start one
            # here as a member would (upload a CSV of a few thousand contacts on the
            # import page, then poll its job like the sync above), with its page names
            # in PAGE_KINDS, count its runs in background_report(), and keep the admin
            # in the run (below) even with --sync none.

    return [Member, Admin] if config["sync"] != "none" else [Member]


def status_problem(response) -> str:
    """How a failed answer is reported; grouped by this text in the error lines."""
    if not response.status_code:
        return f"no answer: {type(response.error).__name__}"
    if 300 <= response.status_code < 400:
        target = urlsplit(response.headers.get("Location", "")).path
        return f"HTTP {response.status_code} to {target}"
    return f"HTTP {response.status_code}"


def figures(stats, elapsed: float) -> dict:
    """Locust's statistics as plain data: each page, the overall line, the errors."""
    from locust.stats import StatsEntry

    def describe(entry) -> dict:
        measured = entry.num_requests > 0
        return {
            "requests": entry.num_requests,
            "errors": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5) if measured else None,
            "p95_ms": entry.get_response_time_percentile(0.95) if measured else None,
            "max_ms": round(entry.max_response_time) if measured else None,
            "rps": round(entry.num_requests / elapsed, 2) if elapsed else None,
        }

    overall = StatsEntry(stats, "overall", "")
    pages = []
    for (name, method), entry in sorted(stats.entries.items()):
        if not entry.num_requests:  # a reset leaves every name it had seen, at zero
            continue
        kind = PAGE_KINDS.get(name, "page")
        if kind in MEASURED:
            overall.extend(entry)
        pages.append({"page": name, "method": method, "kind": kind, **describe(entry)})
    return {
        "seconds": round(elapsed, 1),
        "pages": pages,
        "overall": {**describe(overall), "errors_all": stats.total.num_failures},
        "errors": [{"page": e.name, "method": e.method, "error": str(e.error),
                    "occurrences": e.occurrences} for e in stats.errors.values()],
    }


def locust_child(config_path: str) -> None:
    """Run Locust headless with its library API; print both phases' figures as one
    JSON object on stdout."""
    import logging

    config = json.loads(Path(config_path).read_text())
    import gevent
    from locust.env import Environment

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    arrived: list[bool] = []
    classes = locust_users(config, arrived)
    env = Environment(user_classes=classes, host=config["host"])
    runner = env.create_local_runner()
    people = config["users"] + len(classes) - 1  # the members, and the admin if any
    phase = {"name": "signing in", "started": time.monotonic()}

    def progress() -> None:
        while True:
            gevent.sleep(10)
            total = env.stats.total
            log(f"  {phase['name']}, {time.monotonic() - phase['started']:3.0f} s: "
                f"{runner.user_count} users, {total.num_requests} requests, "
                f"{total.num_failures} failed, p95 so far "
                f"{total.get_response_time_percentile(0.95) if total.num_requests else '-'} ms")

    gevent.spawn(progress)
    runner.start(people, spawn_rate=config["spawn_rate"])
    # Everyone signing in within seconds is how a test starts, not how a working day
    # goes (sessions last 12 hours), and hashing a password is slow on purpose: the
    # sign-ins are measured apart, and browsing is measured once all have arrived.
    deadline = time.monotonic() + 120 + people / config["spawn_rate"]
    while len(arrived) < people and time.monotonic() < deadline:
        gevent.sleep(0.2)
    sign_in = figures(env.stats, time.monotonic() - phase["started"])
    env.stats.reset_all()
    phase.update(name="browsing", started=time.monotonic())
    began = time.time()
    gevent.spawn_later(config["duration"], runner.quit)
    runner.greenlet.join()
    print(json.dumps({
        "sign_in": sign_in,
        "browsing": figures(env.stats, time.monotonic() - phase["started"]),
        "browsing_between": [began, time.time()],
        "people": people,
        "signed_in": sum(arrived),
        # A task that raised (a bug here, or a page the patterns no longer read).
        "exceptions": [{"count": e["count"], "msg": e["msg"]}
                       for e in runner.exceptions.values()],
    }), flush=True)


# --- Set-up and tear-down (the parent process) ---------------------------------------


def check_database_url(url: str) -> tuple[str, str]:
    """The database's name and a URL of the server's maintenance database."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or not name:
        raise SystemExit(f"--database-url must be a postgres:// URL naming a database: {url!r}")
    if "bench" not in name:
        raise SystemExit(f"refusing to create and drop the database {name!r}: "
                         "its name must contain 'bench'")
    return name, urlunsplit(parts._replace(path="/postgres"))


def create_database(name: str, server_url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as conn:
        in_use = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                              (name,)).fetchone()[0]
        if in_use:
            raise SystemExit(f"the database {name!r} exists and is in use (another load run?)")
        # Left by a run that could not clean up: nobody is using it.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str, server_url: str) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(server_url, autocommit=True) as conn:
            # FORCE: a killed worker's connection may linger for a moment.
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(name)))
    except Exception as exc:  # the figures are printed already; say what is left
        log(f"could not drop the database {name!r}: {exc!r}")


def redis_ping(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis at {url} does not answer ({exc}); start it or set REDIS_URL")


def forget_redis_keys(url: str, prefix: str) -> None:
    """Every key the run made is under `prefix:`; a shared Redis is left as it was."""
    import redis

    try:
        r = redis.Redis.from_url(url, socket_connect_timeout=2)
        keys = list(r.scan_iter(f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            r.delete(*keys[start:start + 500])
    except Exception as exc:
        log(f"could not remove the run's Redis keys ({prefix}:*): {exc!r}")


def write_settings_module(folder: Path, prefix: str) -> str:
    """ccadmin.settings plus a key prefix for Celery's queues: kombu reads it only
    from the transport options, which the settings module spells as a literal."""
    (folder / "bench_load_settings.py").write_text(
        "from ccadmin.settings import *  # noqa: F403\n"
        "CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405\n"
        f"                                   'global_keyprefix': '{prefix}:celery:'}}\n"
    )
    return "bench_load_settings"


def set_environment(*, folder: Path, base_url: str, redis_url: str, database_url: str,
                    prefix: str) -> None:
    """The settings every process of the run reads (this one, gunicorn, the worker)."""
    os.environ["DATABASE_URL"] = database_url
    configure_environment(folder=folder, base_url=base_url, redis_url=redis_url)
    sys.path.insert(0, str(folder))
    os.environ.update(
        DJANGO_SETTINGS_MODULE=write_settings_module(folder, prefix),
        PYTHONPATH=os.pathsep.join(filter(None, (str(folder), str(ROOT),
                                                 os.environ.get("PYTHONPATH")))),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        # Production's shape: TLS ends at a proxy (Locust plays it, see the docstring).
        DJANGO_BEHIND_TLS_PROXY="true",
        CCADMIN_TRUSTED_PROXY_COUNT="1",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_STATIC_ROOT=str(folder / "static"),
        CC_REDIS_PREFIX=f"{prefix}:cc",
        CCADMIN_CACHE_PREFIX=f"{prefix}:cache",
    )


def set_up_members(admin_membership, users: int) -> tuple[list[str], str]:
    """`users` members with one random password (hashed once); their emails and it."""
    from django.contrib.auth.hashers import make_password

    from apps.accounts.models import Membership, Role, User

    workspace = admin_membership.workspace
    password = uuid.uuid4().hex
    hashed = make_password(password)
    admin = admin_membership.user
    admin.password = hashed
    admin.save(update_fields=["password"])
    roles = [Role.objects.get(workspace=workspace, preset=p)
             for p in ("viewer", "editor", "viewer", "approver")]
    people = User.objects.bulk_create([
        User(email=f"member{n:03d}-{workspace.pk}@example.com", password=hashed)
        for n in range(users)
    ])
    Membership.objects.bulk_create([
        Membership(workspace=workspace, user=user, role=roles[n % len(roles)])
        for n, user in enumerate(people)
    ])
    return [user.email for user in people], password


def start_group(command: list[str], folder: Path, name: str) -> subprocess.Popen:
    """A server process in a session of its own, so it stops with all its children."""
    return subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                            stdout=open(folder / f"{name}.out.log", "w"),
                            stderr=open(folder / f"{name}.log", "w"))


def stop_group(proc: subprocess.Popen, *, timeout: float) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # the group is this process's own (start_group)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for_syncs(runs: list, worker: subprocess.Popen, *, timeout: float) -> None:
    from apps.mirror.models import SyncRun

    deadline = time.monotonic() + timeout
    pending = [run.pk for run in runs]
    while pending:
        if worker.poll() is not None:
            raise SystemExit("the Celery worker stopped; see its log (--keep-logs)")
        if time.monotonic() > deadline:
            raise SystemExit(f"the set-up syncs did not finish within {timeout:.0f} s")
        time.sleep(0.5)
        for run in SyncRun.objects.filter(pk__in=pending):
            if not run.is_active:
                pending.remove(run.pk)
                if run.status != SyncRun.Status.SUCCEEDED:
                    raise SystemExit(f"the set-up {run.scope} sync failed: {run.error}")


def page_targets(workspace) -> dict:
    """What members choose from: list and tag ids, and search terms from the mirror."""
    from apps.mirror.models import Contact, ContactList, Tag

    sample = (Contact.objects.filter(workspace=workspace, deleted_upstream__isnull=True)
              .order_by("?").values_list("first_name", "last_name", "email")[:100])
    terms = set()
    for first, last, email in sample:
        terms.update(t for t in (first.lower(), last.lower(), f"{first} {last}".lower(),
                                 email.split("@")[0][:8]) if t.strip())
    list_ids = list(ContactList.objects.filter(workspace=workspace).values_list("pk", flat=True))
    tag_ids = list(Tag.objects.filter(workspace=workspace).values_list("pk", flat=True))
    if not (terms and list_ids and tag_ids):
        raise SystemExit("the set-up sync left no contacts, lists or tags to browse")
    return {"search_terms": sorted(terms), "list_ids": list_ids, "tag_ids": tag_ids}


def start_web(folder: Path, workers: int) -> tuple[subprocess.Popen, str]:
    """gunicorn as the Dockerfile runs it, on a free loopback port; the process and URL."""
    web = start_group([sys.executable, "-m", "gunicorn", "ccadmin.wsgi",
                       "--config", "python:ccadmin.gunicorn_conf", "--bind", "127.0.0.1:0",
                       "--workers", str(workers), "--timeout", "60",
                       # Not ~/.gunicorn/gunicorn.ctl, which every gunicorn of this user shares.
                       "--no-control-socket"], folder, "gunicorn")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)",
                          (folder / "gunicorn.log").read_text())
        if found:
            return web, found.group(1)
        if web.poll() is not None:
            break
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start:\n" + (folder / "gunicorn.log").read_text()[-4000:])


def warm_up(host: str, workspace_path: str, email: str, password: str, *, rounds: int) -> None:
    """Each gunicorn worker's first request of a template compiles it; a server that
    has been up a while has done that, so do it before measuring."""
    import requests

    origin = "https://" + urlsplit(host).netloc
    session = requests.Session()
    session.headers.update({"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.19.0.1"})
    deadline = time.monotonic() + 60
    while True:
        try:
            if session.get(host + "/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("gunicorn does not answer /healthz")
        time.sleep(0.5)
    form = session.get(host + LOGIN_PATH, timeout=30).text
    session.post(host + LOGIN_PATH, timeout=30, headers={"Origin": origin}, data={
        "csrfmiddlewaretoken": CSRF_TOKEN.search(form).group(1), "login": email,
        "password": password})
    paths = [workspace_path + p for p in ("", "contacts/", "contacts/?q=a", "lists/", "tags/",
                                          "campaigns/", "constant-contact/budget/", "sync/")]
    for _ in range(rounds):
        for path in paths:
            session.get(host + path, timeout=30)
        contact = CONTACT_LINK.search(session.get(host + workspace_path + "contacts/").text)
        if contact:
            session.get(host + contact.group(1), timeout=30)


def run_locust(folder: Path, config: dict) -> dict:
    path = folder / "locust.json"
    path.write_text(json.dumps(config))
    # Its stderr (progress, Locust's warnings) goes straight to ours.
    child = subprocess.run([sys.executable, __file__, "--locust-child", str(path)], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True, check=False,
                           timeout=config["duration"] + 300)
    if child.returncode != 0 or not child.stdout.strip():
        raise SystemExit(f"the Locust process failed (exit {child.returncode})")
    return json.loads(child.stdout.strip().splitlines()[-1])


def background_report(workspace, *, since, until, kind: str) -> dict:
    """The contacts syncs that ran while members browsed (the admin's, one of them
    perhaps started while the others were still signing in)."""
    from django.db.models import Q

    from apps.mirror.models import SyncRun

    runs = list(SyncRun.objects.filter(workspace=workspace, scope=SyncRun.Scope.CONTACTS,
                                       created_at__lt=until)
                .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=since)))
    busy = 0.0
    for run in runs:
        if run.started_at:
            end = min(run.finished_at or until, until)
            busy += max(0.0, (end - max(run.started_at, since)).total_seconds())
    window = (until - since).total_seconds()
    lasted = [(r.finished_at - r.started_at).total_seconds() for r in runs
              if r.started_at and r.finished_at]
    return {
        "bench": "load", "background": "contacts sync", "kind": kind, "runs": len(runs),
        "succeeded": sum(r.status == SyncRun.Status.SUCCEEDED for r in runs),
        "failed": sum(r.status == SyncRun.Status.FAILED for r in runs),
        "unfinished": sum(r.is_active for r in runs),
        "api_calls": sum(r.api_calls for r in runs),
        "seconds_per_run": round(sum(lasted) / len(lasted), 1) if lasted else None,
        "busy_share": round(busy / window, 2) if window > 0 else None,
        "run_errors": sorted({r.error for r in runs if r.error}),
    }


def print_results(result: dict, *, args, vendor: str, folder: Path) -> None:
    """The JSON lines: sign-in figures, each page while browsing, overall, errors."""
    sign_in, browsing = result["sign_in"], result["browsing"]
    for row in sign_in["pages"]:
        if row["kind"] not in MEASURED:
            print(json.dumps({"bench": "load", "phase": "sign-in", **row}), flush=True)
    for row in browsing["pages"]:
        print(json.dumps({"bench": "load", "phase": "browsing", **row}), flush=True)
    overall = browsing["overall"]
    errors_all = overall["errors_all"] + sign_in["overall"]["errors_all"]
    print(json.dumps({
        "bench": "load", "phase": "browsing", "page": "overall", "kind": "page+htmx+action",
        **overall, "errors_all": errors_all, "seconds": browsing["seconds"],
        "sign_in_seconds": sign_in["seconds"], "users": args.users,
        "signed_in": f"{result['signed_in']}/{result['people']}", "contacts": args.contacts,
        "sync": args.sync, "gunicorn_workers": args.workers, "db": vendor,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_met": (overall["p95_ms"] is not None and overall["p95_ms"] <= GOAL_P95_MS
                     and errors_all == 0),
        "task_exceptions": sum(e["count"] for e in result["exceptions"]),
        "server_log_errors": server_log_errors(folder),
    }), flush=True)
    for phase, figures_ in (("sign-in", sign_in), ("browsing", browsing)):
        for error in figures_["errors"]:
            print(json.dumps({"bench": "load", "phase": phase, "kind": "error", **error}),
                  flush=True)
    for exception in result["exceptions"]:
        log(f"a member's task raised ({exception['count']}x): {exception['msg']}")


def server_log_errors(folder: Path) -> int:
    """ERROR lines and tracebacks in the servers' logs, the first few shown on stderr."""
    found = []
    for name in ("gunicorn.log", "celery.log"):
        path = folder / name
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        found += [f"{name}: {line}" for line in lines if SERVER_ERROR.search(line)]
    for line in found[:20]:
        log(line)
    return len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="members browsing (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10,
                        help="members starting per second (default 10)")
    parser.add_argument("--duration", type=int, default=60,
                        help="seconds of browsing, measured once all have signed in (default 60)")
    parser.add_argument("--contacts", type=int, default=5000,
                        help="contacts in the simulated account (default 5,000)")
    parser.add_argument("--sync", choices=("full", "incremental", "none"), default="full",
                        help="the sync the admin keeps running (default full)")
    parser.add_argument("--think-min", type=float, default=1.0,
                        help="least seconds between a member's steps (default 1)")
    parser.add_argument("--think-max", type=float, default=3.0,
                        help="most seconds between a member's steps (default 3)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn processes (default 4)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help="the PostgreSQL database to create and drop (its name must "
                        f"contain 'bench'; default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the temporary folder with the servers' logs")
    parser.add_argument("--locust-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.locust_child:
        return locust_child(args.locust_child)
    if (args.users < 1 or args.duration < 1 or args.contacts < 1 or args.spawn_rate <= 0
            or not 0 <= args.think_min <= args.think_max):
        parser.error("--users, --duration, --contacts and --spawn-rate must be positive, "
                     "and --think-min at most --think-max")
    if importlib.util.find_spec("locust") is None:  # find, not import: no monkey-patching
        raise SystemExit(INSTALL_HINT)
    db_name, server_url = check_database_url(args.database_url)
    redis_url = os.environ.get("REDIS_URL") or LOCAL_REDIS_URL
    redis_ping(redis_url)

    folder = Path(tempfile.mkdtemp(prefix="ccadmin-bench-load-"))
    prefix = f"ccbench-load-{uuid.uuid4().hex[:10]}"
    sim = worker = web = None
    database_made = django_ready = False
    try:
        log(f"database {db_name}, Redis {redis_url} (keys under {prefix}:), files in {folder}")
        create_database(db_name, server_url)
        database_made = True
        sim, base_url = start_simulator(folder, [
            "--port", "0", "--contacts", str(args.contacts), "--rate-per-second", str(CAP_RPS),
        ], timeout=300)
        set_environment(folder=folder, base_url=base_url, redis_url=redis_url,
                        database_url=args.database_url, prefix=prefix)
        django_setup({})
        django_ready = True
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from apps.campaigns.services.sync import campaigns_sync_start
        from apps.contacts.services.sync import contacts_sync_start

        log("migrating and connecting a workspace ...")
        admin = connect_workspace(prefix)
        workspace = admin.workspace
        members, password = set_up_members(admin, args.users)
        call_command("collectstatic", interactive=False, verbosity=0)

        worker = start_group([sys.executable, "-m", "celery", "-A", "ccadmin", "worker",
                              "-Q", "interactive,default,bulk",
                              "--concurrency", str(CELERY_CONCURRENCY), "--loglevel", "WARNING",
                              "--without-mingle", "--without-gossip", "-n", f"{prefix}@%h"],
                             folder, "celery")
        log(f"syncing {args.contacts:,} contacts and the campaigns (the worker, at 4 calls/s) ...")
        runs = [contacts_sync_start(workspace=workspace, kind="full", membership=admin)[0],
                campaigns_sync_start(workspace=workspace, kind="full", membership=admin)[0]]
        wait_for_syncs(runs, worker, timeout=120 + args.contacts / 500 / 3)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # autovacuum would, some time after the sync

        web, host = start_web(folder, args.workers)
        workspace_path = f"/w/{workspace.slug}/"
        log(f"gunicorn ({args.workers} workers) at {host}; warming up ...")
        warm_up(host, workspace_path, admin.user.email, password, rounds=2 * args.workers)

        log(f"load: {args.users} members for {args.duration} s (spawn rate {args.spawn_rate}/s),"
            f" the admin keeping a {args.sync} sync running ...")
        result = run_locust(folder, {
            "host": host, "workspace_path": workspace_path, "users": args.users,
            "spawn_rate": args.spawn_rate, "duration": args.duration,
            "think_min": args.think_min, "think_max": args.think_max,
            "members": members, "admin": admin.user.email, "password": password,
            "sync": args.sync, "poll_seconds": settings.CCADMIN_POLL_SECONDS,
            **page_targets(workspace),
        })

        print_results(result, args=args, vendor=connection.vendor, folder=folder)
        if args.sync != "none":
            browsing = [datetime.fromtimestamp(t, UTC) for t in result["browsing_between"]]
            print(json.dumps(background_report(workspace, since=browsing[0],
                                               until=browsing[1], kind=args.sync)), flush=True)
    finally:
        for proc, grace in ((web, 20), (worker, 15)):
            if proc is not None:
                stop_group(proc, timeout=grace)
        if sim is not None:
            stop_simulator(sim)
        if django_ready:
            from django.db import connections

            connections.close_all()
        if database_made:
            drop_database(db_name, server_url)
        forget_redis_keys(redis_url, prefix)
        if args.keep_logs:
            log(f"logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
