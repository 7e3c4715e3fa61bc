"""A CSV import of 100,000 rows, end to end: the local checks' speed, the calls
it makes, the time it takes against Constant Contact's rate limit, and whether
every valid row arrived exactly once.

    .venv/bin/python bench/import.py                   # 100,000 rows at 4 requests/s
    .venv/bin/python bench/import.py --rows 20000 --rate 0

Everything is its own and thrown away afterwards, as in bench/sync.py: a
simulator (`python -m ccsim` on a free port, Constant Contact's 4 requests a
second unless --rate says otherwise, a quota that doesn't matter, activities
processed at --items-per-second), a SQLite file (or DATABASE_URL naming a
"bench" database, wiped first) and Redis. The file has realistic problems: 2%
of the rows carry a bad address and 1% repeat an earlier row's address.

The import runs as the wizard runs it: `import_draft_create` (the upload),
`import_dry_run` (every row checked locally) and `import_start`, whose job runs
eagerly in this process (the gate, the shared limiter, chunks of --chunk rows,
polling with backoff, the mirror's refresh).

Prints one JSON line (progress goes to stderr):

    rows, valid, invalid, duplicates     the file and what the dry run made of it
    validation_rows_per_second           read_table + validate_rows alone (goal >= 50,000)
    dry_run_seconds                      the wizard's whole check (reading, checking,
                                         writing a row record per line)
    api_calls                            calls the job made (retries included)
    min_api_calls                        ceil(valid / chunk) submissions + the polls
                                         the job made + ceil(valid / 500) pages to
                                         refresh the mirror
    submissions, polls, refresh_pages    the job's calls by purpose
    wall_seconds                         from "Start the import" to the job's end
    rate_bound_seconds                   api_calls / rate (null when unlimited)
    wall_over_rate_bound                 wall_seconds / rate_bound_seconds
    rows_lost                            valid rows that are not in the simulator afterwards
    rows_duplicated                      rows submitted more than once
    mirror_matches_sim                   every imported address is in the mirror, and
                                         the mirror holds no bench address the
                                         simulator doesn't
"""

import argparse
import json
import math
from pathlib import Path
import random
import shutil
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

UNLIMITED_RPS = 1_000_000
DOMAIN = "bench-import.example.com"


def build_csv(rows: int, seed: int = 11) -> bytes:
    rng = random.Random(seed)
    lines = ["Email,First name,Last name,Company,Job title,Phone,City"]
    made = []
    for i in range(rows):
        roll = rng.random()
        if roll < 0.02:
            email = f"person{i}-at-{DOMAIN}"  # no @: a bad address
        elif roll < 0.03 and made:
            email = rng.choice(made).upper()  # the same address again
        else:
            email = f"person{i}@{DOMAIN}"
            made.append(email)
        lines.append(f"{email},First{i},Last{i},Company {i % 97},Title {i % 13},"
                     f"+1 555 {i % 10000:04d},City {i % 50}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def validation_rate(data: bytes) -> tuple[float, int]:
    from apps.bulk.importfile import auto_mapping, read_table, validate_rows

    started = time.perf_counter()
    table = read_table(data, filename="bench.csv")
    mapping = auto_mapping(table.header, [])
    report = validate_rows(table, mapping, [])
    seconds = time.perf_counter() - started
    return report.rows / seconds, report.rows


def sim_rows(path: Path, token: str) -> tuple[dict[str, int], set[str]]:
    """From the simulator's saved state: how often each row was submitted by this
    job, and the live addresses of the bench's domain."""
    from ccsim.clock import SimClock
    from ccsim.state import State

    state = State(SimClock())
    state.load(str(path))
    submitted: dict[str, int] = {}
    for activity in state.activities.values():
        if token not in str(activity.get("source_file_name") or ""):
            continue
        for row in activity["payload"]["rows"]:
            key = str(row.get("email") or "").lower()
            submitted[key] = submitted.get(key, 0) + 1
    live = {(c.get("email_address") or {}).get("address", "").lower()
            for c in state.contacts.values() if not c.get("deleted_at")}
    return submitted, {e for e in live if e.endswith(DOMAIN)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=CAP_RPS,
                        help=f"requests a second (default {CAP_RPS}, Constant Contact's; 0 = "
                        "unlimited)")
    parser.add_argument("--chunk", type=int, default=500, help="rows per submission")
    parser.add_argument("--items-per-second", type=float, default=20_000,
                        help="how fast the simulator processes an activity's rows")
    args = parser.parse_args()
    limiter_rate = max(1, round(args.rate)) if args.rate else UNLIMITED_RPS

    folder = Path(tempfile.mkdtemp(prefix="ccadmin-bench-import-"))
    sim = None
    django_ready = False
    prefix = f"cc-bench-{uuid.uuid4().hex[:12]}"
    try:
        redis_url = embedded_or_given_redis()
        sim, base_url = start_simulator(folder, [
            "--port", "0", "--contacts", "200", "--rate-per-second", str(args.rate),
            "--daily-quota", "10000000", "--state", str(folder / "ccsim.json"),
            "--save-interval", "1000000",
            "--activity-items-per-second", str(args.items_per_second),
        ], timeout=120)
        log(f"simulator at {base_url}, Redis at {redis_url}, files in {folder}")
        configure_environment(folder=folder, base_url=base_url, redis_url=redis_url,
                              CELERY_TASK_ALWAYS_EAGER="true",
                              CC_RATE_PER_SECOND=str(limiter_rate))
        django_setup({"CC_REDIS_PREFIX": prefix, "CCADMIN_BULK_CHUNK_ROWS": args.chunk})
        django_ready = True
        from django.conf import settings

        empty_database()
        membership = connect_workspace(prefix)

        from apps.bulk.models import BulkChunk, BulkRow
        from apps.bulk.services import imports
        from apps.contacts.services.sync import contacts_sync_start
        from apps.mirror.models import Contact, ContactList

        log("mirroring the demo account (lists) ...")
        contacts_sync_start(workspace=membership.workspace, kind="full", membership=membership)
        time.sleep(settings.CC_RATE_WINDOW_MS / 1000)

        log(f"building {args.rows:,} rows ...")
        data = build_csv(args.rows)
        rate, _ = validation_rate(data)
        log(f"validation: {rate:,.0f} rows/s")

        started = time.perf_counter()
        job = imports.import_draft_create(workspace=membership.workspace, user=membership.user,
                                          name="bench.csv", data=data)
        target = ContactList.objects.filter(workspace=membership.workspace).first()
        dry = imports.import_dry_run(job=job, mapping=job.parameters["mapping"],
                                     list_ids=[target.cc_id], tag_ids=[])
        dry_seconds = time.perf_counter() - started
        log(f"dry run: {dry.report.valid:,} valid in {dry.chunks} chunks, {dry_seconds:.1f}s")

        log("importing ...")
        started = time.perf_counter()
        imports.import_start(job=job, user=membership.user, consent=True)
        wall = time.perf_counter() - started
        job.refresh_from_db()
        if job.state != "succeeded":
            raise SystemExit(f"the import ended {job.state}: {job.error}")

        submissions = job.chunks.filter(step="import").count()
        refresh_pages = math.ceil(dry.report.valid / 500)
        polls = max(0, job.api_calls - submissions - refresh_pages)
        done = set(job.rows.filter(status=BulkRow.Status.DONE).values_list("email", flat=True))
        valid = {e.lower() for e in job.rows.exclude(status__in=("invalid", "duplicate"))
                 .values_list("email", flat=True)}
        mirrored = set(Contact.objects.filter(workspace=membership.workspace,
                                              email__endswith=DOMAIN)
                       .values_list("email", flat=True))
        token = job.token
        stop_simulator(sim, timeout=300)
        sim = None
        submitted, upstream = sim_rows(folder / "ccsim.json", token)
        bound = job.api_calls / args.rate if args.rate else None
        print(json.dumps({
            "bench": "import",
            "rows": dry.report.rows,
            "valid": dry.report.valid,
            "invalid": dry.report.invalid,
            "duplicates": dry.report.duplicates,
            "validation_rows_per_second": round(rate),
            "dry_run_seconds": round(dry_seconds, 2),
            "chunk": args.chunk,
            "api_calls": job.api_calls,
            "min_api_calls": math.ceil(dry.report.valid / args.chunk) + polls + refresh_pages,
            "submissions": submissions,
            "polls": polls,
            "refresh_pages": refresh_pages,
            "wall_seconds": round(wall, 2),
            "rate": args.rate,
            "rate_bound_seconds": round(bound, 2) if bound else None,
            "wall_over_rate_bound": round(wall / bound, 3) if bound else None,
            "rows_imported": len(done),
            "rows_lost": len(valid - upstream),
            "rows_duplicated": sum(n - 1 for n in submitted.values() if n > 1),
            "chunks_submitted_twice": BulkChunk.objects.filter(job=job).count() - len(
                {c for c in BulkChunk.objects.filter(job=job, step="import")
                 .values_list("source_file_name", flat=True)}) - job.chunks.exclude(
                step="import").count(),
            "mirror_matches_sim": valid <= mirrored <= upstream,
        }), flush=True)
    finally:
        if sim is not None:
            stop_simulator(sim, timeout=300)
        if django_ready:
            forget_keys(prefix)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
