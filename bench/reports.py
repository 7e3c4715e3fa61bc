"""Server time and SQL queries of the report pages with 10,000 and 1,000,000
tracking events cached, and the API calls and time of refreshing one campaign
sent to 100,000 contacts.

    .venv/bin/python bench/reports.py                       # both parts, full sizes
    .venv/bin/python bench/reports.py --quick               # small sizes, a minute or two
    .venv/bin/python bench/reports.py --part pages --events 10000,1000000
    .venv/bin/python bench/reports.py --part refresh --recipients 100000 --rate 4
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ccadmin_bench .venv/bin/python bench/reports.py

Everything is its own and thrown away (bench/pages.py and bench/sync.py say how:
a SQLite file in a temporary folder or a DATABASE_URL whose name contains
"bench", an embedded Redis or REDIS_URL with a prefix of its own, a simulator on
a free port). Each part runs in a child process of its own: Django is set up
once per process, and the two parts need different settings.

**pages** — for each --events size, a workspace with --campaigns sent campaigns
(over the last year) and that many tracking events bulk-inserted into the
mirror in a realistic mix (sends; 42 % open, some more than once; 30 % of
openers click; 4 % bounce; 1.5 % opt out) over a pool of contacts, each
campaign's aggregates computed as a refresh would. Then each page is timed with
Django's test Client (the whole request). One JSON line per page and size:

    events, campaigns, db, page, url, requests, p50_ms, p95_ms, max_ms, queries

Goal (issue 11): p95 <= 200 ms, and the same query count at 10k and 1M events.

**refresh** — a simulated account of --recipients contacts, all on one list, and
a campaign sent to them three days ago (the simulator's delivery makes its
opens, clicks, bounces and opt-outs); a campaigns sync mirrors it, then one
reports refresh reads everything, exactly as beat would. One JSON line:

    recipients, events_by_kind    events per kind the simulator reported (all campaigns)
    calls_by_endpoint             calls the refresh made, per catalog name
    min_event_calls_by_kind       sum over campaigns of ceil(events / 500), per kind
    api_calls, wall_seconds, rate, rate_bound_seconds (api_calls / rate),
    wall_over_rate_bound          1.0 = nothing but the rate limit
"""

import argparse
from collections import Counter
import json
import math
import os
from pathlib import Path
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from harness import (
    CAP_RPS,
    configure_environment,
    connect_workspace,
    django_setup,
    embedded_or_given_redis,
    empty_database,
    forget_keys,
    log,
    start_simulator,
    stop_simulator,
)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EVENTS_PAGE = 500
UNLIMITED_RPS = 1_000_000
BATCH = 20_000


# --- Part 1: pages ----------------------------------------------------------------------

def seed_pages(*, events: int, campaigns: int, tag: str):
    """A workspace with `campaigns` sent campaigns and about `events` cached events."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import Membership, User
    from apps.accounts.services import workspace_create
    from apps.mirror.models import Campaign, CampaignStatus, Contact, TrackingEvent
    from apps.reporting.models import CampaignReport
    from apps.reporting.services.aggregates import report_aggregates_compute

    rng = random.Random(11)
    admin = User.objects.create_user(email=f"admin-{tag}@example.com", password=uuid.uuid4().hex)
    workspace = workspace_create(name=f"Reports {tag}", admin=admin)
    # Each recipient makes about two events (a send, and opens, clicks...).
    per_campaign = max(4, events // campaigns // 2)
    pool = max(per_campaign * 4, 1000)
    Contact.objects.bulk_create(
        [Contact(workspace=workspace, cc_id=f"c-{i}", email=f"person{i}@example.com",
                 first_name=f"First{i % 97}", last_name=f"Last{i % 89}") for i in range(pool)],
        batch_size=5000)
    now = timezone.now()
    rows: list = []
    made = 0
    for n in range(campaigns):
        sent = now - timedelta(days=rng.uniform(3, 360))
        campaign = Campaign.objects.create(
            workspace=workspace, cc_id=f"camp-{n}", name=f"Campaign {n:03d}",
            status=CampaignStatus.DONE, primary_activity_id=f"act-{n}")
        counts = Counter()
        openers, clickers = set(), set()
        recipients = rng.sample(range(pool), min(per_campaign, pool))
        for i, contact in enumerate(recipients):
            cid = f"c-{contact}"
            at = sent + timedelta(seconds=i // 100)

            def add(kind, when, **extra):
                rows.append(TrackingEvent(workspace=workspace, activity_id=f"act-{n}", kind=kind,
                                          contact_cc_id=cid, occurred_at=when, **extra))
                counts[kind] += 1
                (openers if kind == "open" else clickers if kind == "click" else set()).add(cid)

            add("send", at)
            if rng.random() < 0.04:
                add("bounce", at + timedelta(minutes=5), bounce_code=rng.choice("BDFSVXZ"))
                continue
            if rng.random() < 0.42:
                opened = at + timedelta(hours=rng.expovariate(1 / 8))
                for k in range(rng.choice((1, 1, 2, 3))):
                    add("open", opened + timedelta(hours=k * 5), device_type="mobile")
                if rng.random() < 0.3:
                    add("click", opened + timedelta(minutes=3), url_id=str(rng.randint(1, 4)),
                        link_url=f"https://example.com/{rng.randint(1, 4)}")
            if rng.random() < 0.015:
                add("optout", at + timedelta(hours=3), opt_out_reason="Too many emails")
        CampaignReport.objects.create(
            workspace=workspace, campaign=campaign, activity_id=f"act-{n}", last_sent_at=sent,
            sends=counts["send"], opens=len(openers), clicks=len(clickers),
            bounces=counts["bounce"], optouts=counts["optout"], opens_all=counts["open"],
            clicks_all=counts["click"], events_read_at=now, summary_read_at=now)
        if len(rows) >= BATCH or n == campaigns - 1:
            TrackingEvent.objects.bulk_create(rows, batch_size=5000)
            made += len(rows)
            rows = []
            log(f"  {n + 1} campaigns, {made:,} events")
    for report in CampaignReport.objects.filter(workspace=workspace):
        report.aggregates = report_aggregates_compute(report=report)
        report.save(update_fields=["aggregates"])
    viewer = Membership.objects.get(workspace=workspace, user=admin)
    return workspace, viewer.user, made


def measure(client, url: str, *, requests: int, warmup: int = 3) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    return {"requests": requests, "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
            "max_ms": round(times[-1], 1), "queries": len(queries.captured_queries)}


def part_pages(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ccadmin-bench-reports-"))
    (folder / "staticfiles").mkdir()
    try:
        redis_url = embedded_or_given_redis()
        configure_environment(folder=folder, base_url="http://127.0.0.1:9", redis_url=redis_url,
                              DJANGO_SECURE_SSL_REDIRECT="false",
                              DJANGO_SECURE_COOKIES="false",
                              CCADMIN_CACHE_PREFIX=f"bench-reports-{uuid.uuid4().hex[:8]}")
        os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"  # the test Client's host
        django_setup({})
        from django.conf import settings
        settings.STORAGES = {**settings.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from apps.mirror.models import Contact, TrackingEvent
        from apps.reporting.models import CampaignReport

        empty_database(force=args.force)
        for size in [int(s) for s in args.events.split(",") if s.strip()]:
            log(f"seeding {args.campaigns} campaigns and ~{size:,} events "
                f"({connection.vendor}) ...")
            workspace, user, made = seed_pages(events=size, campaigns=args.campaigns,
                                               tag=f"{size}-{uuid.uuid4().hex[:6]}")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            client = Client()
            client.force_login(user)
            slug = workspace.slug
            biggest = CampaignReport.objects.filter(workspace=workspace).order_by("-sends").first()
            five = list(CampaignReport.objects.filter(workspace=workspace)
                        .order_by("-sends").values_list("campaign_id", flat=True)[:5])
            busiest = (TrackingEvent.objects.filter(workspace=workspace, kind="send")
                       .values_list("contact_cc_id", flat=True).first())
            contact = Contact.objects.get(workspace=workspace, cc_id=busiest)
            pages = [
                ("overview", reverse("reporting:overview", kwargs={"workspace_slug": slug})
                 + "?period=365"),
                ("campaign report", reverse("reporting:campaign_report", kwargs={
                    "workspace_slug": slug, "campaign_id": biggest.campaign_id})),
                ("comparison", reverse("reporting:compare", kwargs={"workspace_slug": slug})
                 + "?" + "&".join(f"c={pk}" for pk in five)),
                ("contact activity", reverse("contacts:contact_detail", kwargs={
                    "workspace_slug": slug, "contact_id": contact.pk})),
            ]
            for name, url in pages:
                result = measure(client, url, requests=args.requests)
                print(json.dumps({"events": made, "campaigns": args.campaigns,
                                  "db": connection.vendor, "page": name, "url": url, **result}),
                      flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- Part 2: one campaign's refresh -----------------------------------------------------

def seed_state(path: Path, recipients: int) -> None:
    """The demo account with every contact on one list, and a campaign sent to that
    list three days ago (dated a day earlier, as bench/sync.py says why)."""
    from ccsim.clock import SimClock
    from ccsim.delivery import deliver
    from ccsim.resources.emails import make_campaign
    from ccsim.seed import seed_account
    from ccsim.state import State

    state = State(SimClock())
    seed_account(state, recipients)
    everyone = set(state.contact_order)
    list_id = next(iter(state.lists))
    state.list_members[list_id] = everyone
    for cid in everyone:
        email = state.contacts[cid].get("email_address") or {}
        if email.get("permission_to_send") not in ("explicit", "implicit"):
            email["permission_to_send"] = "implicit"
    now = state.clock.time()
    camp = make_campaign(state, "Benchmark send", 5, {
        "from_name": "Bench", "from_email": "news@ccsim-demo.example",
        "reply_to_email": "news@ccsim-demo.example", "subject": "Benchmark"},
        '<html><body>[[trackingImage]]<a href="https://example.com/a">a</a>'
        '<a href="https://example.com/b">b</a></body></html>',
        {"address_line1": "1 Main St", "city": "Boston", "country_code": "US",
         "organization_name": "Bench", "postal_code": "02108", "state_code": "MA"})
    activity = state.campaign_activities[camp["_primary"]]
    activity["contact_list_ids"] = [list_id]
    deliver(state, activity, now - 3 * 86400, 0)
    state.save(str(path))


def part_refresh(args) -> None:
    limiter_rate = max(1, round(args.rate)) if args.rate else UNLIMITED_RPS
    folder = Path(tempfile.mkdtemp(prefix="ccadmin-bench-refresh-"))
    sim = None
    django_ready = False
    prefix = f"cc-bench-{uuid.uuid4().hex[:12]}"
    try:
        redis_url = embedded_or_given_redis()
        log(f"seeding {args.recipients:,} contacts and one send to them ...")
        seed_state(folder / "ccsim.json", args.recipients)
        sim, base_url = start_simulator(folder, [
            "--port", "0", "--contacts", str(args.recipients), "--rate-per-second",
            str(args.rate), "--daily-quota", "10000000", "--state", str(folder / "ccsim.json"),
            "--save-interval", "1000000"], timeout=600)
        configure_environment(folder=folder, base_url=base_url, redis_url=redis_url,
                              CELERY_TASK_ALWAYS_EAGER="true",
                              CC_RATE_PER_SECOND=str(limiter_rate))
        django_setup({"CC_REDIS_PREFIX": prefix, "CCADMIN_REPORTS_QUOTA_PERCENT": 100,
                      "CCADMIN_REPORTS_RESERVE_MARGIN": 0})
        django_ready = True
        from django.conf import settings
        from django.db.models import Count

        from apps.campaigns.services.sync import campaigns_sync_start
        from apps.constantcontact import gate as gate_module
        from apps.mirror.models import TrackingEvent
        from apps.reporting.services.refresh import reports_refresh_start

        empty_database()
        membership = connect_workspace(prefix)
        time.sleep(settings.CC_RATE_WINDOW_MS / 1000)
        run, _ = campaigns_sync_start(workspace=membership.workspace, kind="full",
                                      membership=membership)
        run.refresh_from_db()
        if run.status != "succeeded":
            raise SystemExit(f"the campaigns sync failed: {run.error}")
        time.sleep(settings.CC_RATE_WINDOW_MS / 1000)

        calls: Counter = Counter()
        real_call = gate_module.ConstantContact.call

        def counting_call(self, name, *a, **kw):
            calls[name] += 1
            return real_call(self, name, *a, **kw)

        real_pages = gate_module.ConstantContact.pages

        def counting_pages(self, name, *a, **kw):
            for page in real_pages(self, name, *a, **kw):
                calls[name] += 1
                yield page

        gate_module.ConstantContact.call = counting_call
        gate_module.ConstantContact.pages = counting_pages
        log("reports refresh ...")
        started = time.perf_counter()
        run, _ = reports_refresh_start(workspace=membership.workspace, membership=membership)
        wall = time.perf_counter() - started
        run.refresh_from_db()
        if run.status != "succeeded" or run.error:
            raise SystemExit(f"the refresh failed: {run.error}")
        by_activity_kind = (TrackingEvent.objects.filter(workspace=membership.workspace)
                            .values("activity_id", "kind").annotate(n=Count("pk")))
        events = Counter()
        minimum = Counter()
        for row in by_activity_kind:
            events[row["kind"]] += row["n"]
            minimum[row["kind"]] += math.ceil(row["n"] / EVENTS_PAGE)
        bound = run.api_calls / args.rate if args.rate else None
        print(json.dumps({
            "recipients": args.recipients, "events_by_kind": dict(events),
            "calls_by_endpoint": dict(calls), "min_event_calls_by_kind": dict(minimum),
            "api_calls": run.api_calls, "wall_seconds": round(wall, 2), "rate": args.rate,
            "rate_bound_seconds": round(bound, 2) if bound else None,
            "wall_over_rate_bound": round(wall / bound, 2) if bound else None,
        }), flush=True)
    finally:
        if sim is not None:
            stop_simulator(sim, timeout=300)
        if django_ready:
            forget_keys(prefix)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("all", "pages", "refresh"), default="all")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: 10k and 50k events, 2,000 recipients")
    parser.add_argument("--events", default="10000,1000000")
    parser.add_argument("--campaigns", type=int, default=500)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=CAP_RPS)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.events, args.recipients, args.requests = "10000,50000", 2000, 15
    if args.part == "all":
        for part in ("pages", "refresh"):
            command = [sys.executable, __file__, "--part", part, "--events", args.events,
                       "--campaigns", str(args.campaigns), "--requests", str(args.requests),
                       "--recipients", str(args.recipients), "--rate", str(args.rate)]
            subprocess.run(command + (["--force"] if args.force else []), check=True,
                           env=os.environ.copy())
        return
    (part_pages if args.part == "pages" else part_refresh)(args)


if __name__ == "__main__":
    main()
