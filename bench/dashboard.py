"""Server time and SQL queries of the overview (the workspace home) with 1,000
and 100,000 contacts mirrored, and everything else grown with them.

    .venv/bin/python bench/dashboard.py                       # SQLite file, 1k and 100k
    .venv/bin/python bench/dashboard.py --sizes 1000 --requests 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ccadmin_bench \
        .venv/bin/python bench/dashboard.py

Like bench/pages.py (whose seeding it reuses, and whose rules for DATABASE_URL
and Redis it follows), it needs no simulator: the overview reads the mirror and
the caches only. For each size the workspace also gets, per 1,000 contacts: 2
sent campaigns with their report rows, 1 scheduled in the next two weeks, 1
waiting for review, 4 finished bulk jobs and 200 audit events (most of them
plain API calls, as a sync leaves them); plus 3 running bulk jobs. Then the
overview is timed for an admin (every card) with Django's test Client.

One JSON line per size and case (progress goes to stderr):

    n, db, page, url, requests, p50_ms, p95_ms, max_ms, queries

Cases: "overview" (the contact counts cached, as on every visit after the first
within a minute) and "overview cold" (their cache emptied before each request).
Goal: p95 under 200 ms at 100k, and the same query count at 1k and 100k.
"""

import argparse
import json
import os
from pathlib import Path
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid

from harness import empty_database
from pages import analyze, django_setup, log, seed

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def grow(workspace, n: int) -> object:
    """Campaigns, reports, reviews, jobs and audit events in proportion to `n`;
    returns the workspace's admin."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import Membership
    from apps.audit.services import audit_event_record
    from apps.bulk.models import BulkJob
    from apps.campaigns.fingerprint import fingerprint, outgoing_snapshot
    from apps.campaigns.models import Approval
    from apps.mirror.models import Campaign, CampaignStatus, EmailActivity, SyncRun
    from apps.reporting.models import CampaignReport

    rng = random.Random(n)
    now = timezone.now()
    from apps.accounts.models import Role, User

    admin = Membership.objects.filter(workspace=workspace, role__preset="admin").get().user
    # Reviews are asked for by someone else: the admin may decide on them (four eyes).
    editor = User.objects.create_user(email=f"editor-{workspace.slug}@example.com",
                                      password=uuid.uuid4().hex)
    Membership.objects.create(workspace=workspace, user=editor,
                              role=Role.objects.get(workspace=workspace, preset="editor"))
    per_k = max(1, n // 1000)
    for scope in SyncRun.Scope:
        SyncRun.objects.bulk_create(
            SyncRun(workspace=workspace, scope=scope, kind=SyncRun.Kind.INCREMENTAL,
                    status=SyncRun.Status.SUCCEEDED, created_at=now - timedelta(minutes=5 * i),
                    finished_at=now - timedelta(minutes=5 * i - 1)) for i in range(1, 20 * per_k))

    def campaign(name, status, **email):
        row = Campaign.objects.create(workspace=workspace, cc_id=str(uuid.uuid4()), name=name,
                                      status=status, author=editor)
        EmailActivity.objects.create(campaign=row, cc_id=str(uuid.uuid4()), status=status,
                                     subject=name, html_content="<p>x</p>" * 200, **email)
        return row

    for i in range(2 * per_k):
        sent_at = now - timedelta(days=1 + i)
        row = campaign(f"Sent {i}", CampaignStatus.DONE, sent_at=sent_at)
        sends = rng.randint(500, 5000)
        CampaignReport.objects.create(workspace=workspace, campaign=row, last_sent_at=sent_at,
                                      sends=sends, opens=sends // 3, clicks=sends // 20,
                                      bounces=sends // 50, optouts=sends // 200,
                                      summary_read_at=now)
    for i in range(per_k):
        campaign(f"Scheduled {i}", CampaignStatus.SCHEDULED,
                 scheduled_at=now + timedelta(hours=rng.randint(1, 13 * 24)))
        draft = campaign(f"In review {i}", CampaignStatus.DRAFT)
        snapshot = outgoing_snapshot(draft.email)
        Approval.objects.create(campaign=draft, snapshot=snapshot,
                                fingerprint=fingerprint(snapshot), requested_by=editor)
    for i in range(4 * per_k + 3):
        running = i < 3
        BulkJob.objects.create(
            workspace=workspace, kind=BulkJob.Kind.IMPORT, created_by=admin, title=f"Import {i}",
            state=BulkJob.State.RUNNING if running else BulkJob.State.SUCCEEDED,
            total_items=1000, processed_items=400 if running else 1000)
    for i in range(200 * per_k):
        action = "campaign.updated" if i % 20 == 0 else "cc.contacts.list"
        audit_event_record(action=action, actor=admin, workspace=workspace,
                           target="GET /contacts" if action.startswith("cc.") else "campaign x")
    return admin


def measure(client, url: str, *, requests: int, before=None, warmup: int = 3) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        if client.get(url).status_code != 200:
            raise SystemExit(f"{url} did not answer 200")
    times = []
    for _ in range(requests):
        if before:
            before()
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    if before:
        before()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    return {"requests": requests, "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
            "max_ms": round(times[-1], 1), "queries": len(queries.captured_queries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--force", action="store_true",
                        help="wipe DATABASE_URL even if its name lacks 'bench'")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    folder = Path(tempfile.mkdtemp(prefix="ccadmin-bench-dashboard-"))
    (folder / "staticfiles").mkdir()
    try:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            from ccadmin.embedded_redis import start_embedded_redis

            redis_url = start_embedded_redis()
        from cryptography.fernet import Fernet

        os.environ.update(
            DJANGO_SETTINGS_MODULE="ccadmin.settings", DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=uuid.uuid4().hex * 2, DJANGO_ALLOWED_HOSTS="testserver",
            DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_COOKIES="false",
            CCADMIN_VAR_DIR=str(folder), CCADMIN_LOG_LEVEL="WARNING",
            CCADMIN_FERNET_KEYS=Fernet.generate_key().decode(),
            CCADMIN_CACHE_PREFIX=f"bench-dashboard-{uuid.uuid4().hex[:8]}",
            REDIS_URL=redis_url,
        )
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
        django_setup()
        from django.core.cache import cache
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        empty_database(force=args.force)
        for n in sizes:
            log(f"seeding {n:,} contacts and the rest ({connection.vendor}) ...")
            workspace, _viewer, _lists, _tags = seed(n, f"{n}-{uuid.uuid4().hex[:6]}")
            admin = grow(workspace, n)
            analyze(vacuum=True)
            client = Client()
            client.force_login(admin)
            url = reverse("dashboard:home", kwargs={"workspace_slug": workspace.slug})
            key = f"dashboard:contact-counts:{workspace.pk}"
            for page, before in (("overview", None), ("overview cold", lambda: cache.delete(key))):
                result = measure(client, url, requests=args.requests, before=before)
                print(json.dumps({"n": n, "db": connection.vendor, "page": page, "url": url,
                                  **result}), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
