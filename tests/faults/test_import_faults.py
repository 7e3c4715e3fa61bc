"""A CSV import run by a real Celery worker that is killed with SIGKILL while
Constant Contact holds the answer to one of its submissions. The reclaimer
queues the job again once the dead worker's lease lapses, a new worker finds the
unanswered submission among Constant Contact's activities by its file name
instead of sending it again, and the import finishes with 0 rows lost and 0
submitted twice."""

import pytest

from apps.bulk.models import BulkJob, BulkRow
from apps.bulk.services import imports
from apps.bulk.services.jobs import bulk_jobs_reclaim
from apps.mirror.models import ContactList
from tests.contacts.contact_support import mirror_collections
from tests.faults.conftest import LEASE_SECONDS
from tests.faults.worker import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

ROWS = 45  # five chunks of ten
JOB_TIMEOUT = 90


def test_a_worker_killed_mid_import_loses_nothing_and_sends_nothing_twice(
        connected_world, upstream, start_worker, settings, monkeypatch):
    world = connected_world
    settings.CCADMIN_BULK_CHUNK_ROWS = 10
    monkeypatch.setenv("CCADMIN_BULK_RECONCILE_SECONDS", "2")
    mirror_collections(world)
    target = ContactList.objects.filter(workspace=world.workspace).first()
    data = ("email,first_name\n" + "".join(f"killed{i}@example.com,K{i}\n"
                                           for i in range(ROWS))).encode()
    job = imports.import_draft_create(workspace=world.workspace, user=world.editor,
                                      name="killed.csv", data=data)
    imports.import_dry_run(job=job, mapping=job.parameters["mapping"],
                           list_ids=[target.cc_id], tag_ids=[])
    # Constant Contact takes the third file, but its answer never reaches the worker.
    held = upstream.hold("POST", "/contacts_file_import", nth=3)
    imports.import_start(job=job, user=world.editor, consent=True)  # to the broker

    first = start_worker()
    wait_until("the third submission", held.arrived.is_set, timeout=JOB_TIMEOUT, worker=first)
    first.kill()
    upstream.release_all()
    job.refresh_from_db()
    assert job.state == BulkJob.State.RUNNING

    second = start_worker()
    wait_until(f"the reclaimer to queue job {job.pk} again",
               lambda: job.pk in bulk_jobs_reclaim(), timeout=LEASE_SECONDS + 10, worker=second)

    def done():
        job.refresh_from_db()
        return not job.is_active

    wait_until(f"import {job.pk} to finish", done, timeout=JOB_TIMEOUT, worker=second)
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    assert job.attempts == 2
    assert upstream.count("POST", "/contacts_file_import") == 5  # each chunk once
    with world.sim.state.lock:
        sent = [a for a in world.sim.state.activities.values()
                if job.token in str(a.get("source_file_name") or "")]
        names = [a["source_file_name"] for a in sent]
        rows = sum(len(a["payload"]["rows"]) for a in sent)
        live = {(c.get("email_address") or {}).get("address")
                for c in world.sim.state.contacts.values()}
    assert len(names) == len(set(names)) == 5
    assert rows == ROWS  # 0 duplicated
    assert {f"killed{i}@example.com" for i in range(ROWS)} <= live  # 0 lost
    assert job.rows.filter(status=BulkRow.Status.DONE).count() == ROWS
