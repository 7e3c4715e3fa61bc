"""The import against the simulator: bad input refused with nothing sent, a dry
run with no API call, chunks by count, activity errors merged into the rows, the
mirror refreshed, tags added, and the resume after a worker dies mid-import
with 0 rows lost and 0 chunks submitted twice."""

import pytest

from apps.bulk.importfile import FileProblem
from apps.bulk.models import BulkChunk, BulkJob, BulkRow
from apps.bulk.services import engine, imports
from apps.bulk.services.jobs import bulk_job_run
from apps.mirror.models import Contact, ContactList, Tag
from tests.bulk.conftest import make_csv, sim_activities, sim_emails


def _lists(world):
    return list(ContactList.objects.filter(workspace=world.workspace)
                .values_list("cc_id", flat=True))[:1]


def _draft(world, data: bytes, name="people.csv"):
    return imports.import_draft_create(workspace=world.workspace, user=world.admin, name=name,
                                       data=data)


def _rows(n: int, start: int = 0, domain="example.com"):
    return [(f"person{i}@{domain}", f"First{i}", f"Last{i}") for i in range(start, start + n)]


def test_the_dry_run_checks_every_row_and_calls_nothing(synced_world, bulk_settings):
    data = make_csv(_rows(25) + [("broken", "No", "Email"), ("person3@example.com", "Dup", "")])
    job = _draft(synced_world, data)
    before = len(sim_activities(synced_world, "file_import"))
    dry = imports.import_dry_run(job=job, mapping=job.parameters["mapping"],
                                 list_ids=_lists(synced_world), tag_ids=[])
    assert (dry.report.valid, dry.report.invalid, dry.report.duplicates) == (25, 1, 1)
    assert dry.chunks == 3  # 10 rows a chunk
    job.refresh_from_db()
    assert job.state == BulkJob.State.DRAFT
    assert job.rows.filter(status=BulkRow.Status.PENDING).count() == 25
    assert len(sim_activities(synced_world, "file_import")) == before


@pytest.mark.parametrize("data, words", [
    (make_csv([("a", "b", "c")], header=("Name", "Town", "Note")), "which column holds the email"),
    (make_csv([("nope", "A", "B"), ("also-nope", "C", "D")]), "None of the file's 2 rows"),
])
def test_a_mapping_or_file_with_nothing_importable_is_refused(synced_world, data, words):
    job = _draft(synced_world, data)
    with pytest.raises(FileProblem) as caught:
        imports.import_dry_run(job=job, mapping=job.parameters["mapping"],
                               list_ids=_lists(synced_world), tag_ids=[])
    assert words in caught.value.message


def test_an_upload_over_the_size_limit_is_refused_before_reading(synced_world, settings):
    settings.CCADMIN_BULK_UPLOAD_MAX_MB = 1
    with pytest.raises(FileProblem) as caught:
        _draft(synced_world, b"email\n" + b"x@example.com\n" * 80_000)
    assert "larger than 1 MB" in caught.value.message
    assert not BulkJob.objects.exists()


def test_starting_needs_a_list_and_consent(synced_world, bulk_settings):
    job = _draft(synced_world, make_csv(_rows(3)))
    imports.import_dry_run(job=job, mapping=job.parameters["mapping"], list_ids=[], tag_ids=[])
    with pytest.raises(FileProblem, match="at least one list"):
        imports.import_start(job=job, user=synced_world.admin, consent=True)
    imports.import_dry_run(job=job, mapping=job.parameters["mapping"],
                           list_ids=_lists(synced_world), tag_ids=[])
    with pytest.raises(FileProblem, match="permission"):
        imports.import_start(job=job, user=synced_world.admin, consent=False)


def _start(world, job, capture):
    with capture(execute=True):
        imports.import_start(job=job, user=world.admin, consent=True)
    job.refresh_from_db()
    return job


def test_an_import_sends_chunks_merges_errors_refreshes_the_mirror_and_tags(
        synced_world, bulk_settings, fast_waits, django_capture_on_commit_callbacks):
    tag = Tag.objects.filter(workspace=synced_world.workspace).first()
    data = make_csv(_rows(23))
    job = _draft(synced_world, data)
    lists = _lists(synced_world)
    imports.import_dry_run(job=job, mapping=job.parameters["mapping"], list_ids=lists,
                           tag_ids=[tag.cc_id])
    # Constant Contact refuses one row our checks let through (it is stricter on
    # this address than we are): its error must land on that row only.
    job.rows.filter(line=5).update(data={"email": "person3x@bad domain.com"},
                                   email="person3x@bad domain.com")
    job = _start(synced_world, job, django_capture_on_commit_callbacks)

    assert job.state == BulkJob.State.SUCCEEDED, job.error
    assert job.counts["imported"] == 22 and job.counts["failed"] == 1
    failed = job.rows.get(status=BulkRow.Status.FAILED)
    assert failed.line == 5 and "invalid email" in failed.message
    files = sim_activities(synced_world, "file_import")
    assert sorted(a["source_file_name"] for a in files) == [
        f"ccadmin-{job.token}-0000{i}.csv" for i in (1, 2, 3)]
    emails = sim_emails(synced_world)
    assert all(f"person{i}@example.com" in emails for i in range(23) if i != 3)
    # The mirror has them, on the list and tagged, and each row links its contact.
    mirrored = Contact.objects.filter(workspace=synced_world.workspace,
                                      email__startswith="person")
    assert mirrored.count() == 22
    assert mirrored.filter(lists__cc_id=lists[0]).count() == 22
    assert mirrored.filter(tags=tag).count() == 22
    assert job.rows.filter(status=BulkRow.Status.DONE, contact__isnull=False).count() == 22
    assert job.api_calls > 0


class Killed(BaseException):
    """What kill -9 looks like from inside: nothing after it runs, nothing catches it."""


def test_a_worker_killed_mid_import_resumes_with_nothing_lost_or_sent_twice(
        synced_world, bulk_settings, fast_waits, monkeypatch,
        django_capture_on_commit_callbacks):
    data = make_csv(_rows(47, start=100))
    job = _draft(synced_world, data)
    imports.import_dry_run(job=job, mapping=job.parameters["mapping"],
                           list_ids=_lists(synced_world), tag_ids=[])
    real_submit = engine._submit
    submitted = []

    def submit_then_die(run, chunk, build):
        real_submit(run, chunk, build)
        submitted.append(chunk.index)
        if len(submitted) == 3:
            # The POST went through and its activity id is recorded; the worker
            # dies before it polls or submits anything else.
            raise Killed()

    monkeypatch.setattr(engine, "_submit", submit_then_die)
    with pytest.raises(Killed):
        _start(synced_world, job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.state == BulkJob.State.RUNNING  # what a dead worker leaves behind
    assert job.chunks.filter(state=BulkChunk.State.SUBMITTED).count() == 3

    # A second death, this time between the stamp and the answer: the chunk is
    # left `submitting` and must be found upstream, not sent again.
    def die_before_answer(run, chunk, build):
        BulkChunk.objects.filter(pk=chunk.pk).update(state=BulkChunk.State.SUBMITTING)
        run.call(chunk.endpoint, **build(run, chunk))
        raise Killed()

    monkeypatch.setattr(engine, "_submit", die_before_answer)
    with pytest.raises(Killed):
        bulk_job_run(job_id=job.pk)
    assert job.chunks.filter(state=BulkChunk.State.SUBMITTING).count() == 1

    # The reclaimer's next attempt (the lease lapsed with the worker).
    monkeypatch.setattr(engine, "_submit", real_submit)
    job = bulk_job_run(job_id=job.pk)
    assert job.state == BulkJob.State.SUCCEEDED, job.error

    activities = sim_activities(synced_world, "file_import")
    names = [a["source_file_name"] for a in activities if job.token in a["source_file_name"]]
    assert len(names) == len(set(names)) == 5  # 47 rows, 10 a chunk: each sent once
    rows_sent = sum(len(a["payload"]["rows"]) for a in activities
                    if job.token in a["source_file_name"])
    assert rows_sent == 47  # 0 duplicated
    assert job.rows.filter(status=BulkRow.Status.DONE).count() == 47  # 0 lost
    emails = sim_emails(synced_world)
    assert all(f"person{i}@example.com" in emails for i in range(100, 147))


def test_the_simulator_counts_correctable_errors_apart(synced_world):
    """Spec ActivityImport: error_count counts the non-correctable errors;
    an invalid address is correctable."""
    cc = synced_world.gate()
    lists = _lists(synced_world)
    body = b"email,first_name\nnot-an-email,A\nok-sim@example.com,B\n"
    result = cc.call("activities.contacts_file_import",
                     files={"file": ("x.csv", body, "text/csv")},
                     data={"list_ids": ",".join(lists)})
    synced_world.sim.advance(30)
    activity = cc.call("activities.get", activity_id=result.data["activity_id"]).data
    assert activity["status"]["correctable_count"] == 1
    assert activity["status"]["error_count"] == 0


def test_cancel_submits_no_more_chunks(synced_world, bulk_settings, fast_waits, monkeypatch,
                                       django_capture_on_commit_callbacks):
    from django.utils import timezone

    job = _draft(synced_world, make_csv(_rows(35, start=300)))
    imports.import_dry_run(job=job, mapping=job.parameters["mapping"],
                           list_ids=_lists(synced_world), tag_ids=[])
    real_submit = engine._submit

    def submit_then_cancel(run, chunk, build):
        real_submit(run, chunk, build)
        # A member presses "Cancel the job" right after the first part went.
        BulkJob.objects.filter(pk=run.job.pk).update(cancel_requested_at=timezone.now())

    monkeypatch.setattr(engine, "_submit", submit_then_cancel)
    job = _start(synced_world, job, django_capture_on_commit_callbacks)
    assert job.state == BulkJob.State.CANCELLED
    sent = [a for a in sim_activities(synced_world, "file_import")
            if job.token in a["source_file_name"]]
    assert len(sent) == 1
    assert job.chunks.filter(state=BulkChunk.State.CANCELLED).count() == 3
    assert job.rows.filter(status=BulkRow.Status.DONE).count() == 10
    assert job.rows.filter(status=BulkRow.Status.SKIPPED).count() == 25


def test_a_full_activity_queue_makes_the_import_wait_not_fail(
        synced_world, bulk_settings, fast_waits, monkeypatch,
        django_capture_on_commit_callbacks):
    """Constant Contact allows 1,000 queued activities per account (here: 1). A
    submission refused with 429 goes back to pending and is sent once there is room."""
    from ccsim.resources import activities as sim_activities_module

    monkeypatch.setattr(sim_activities_module, "MAX_QUEUED", 1)
    monkeypatch.setattr(engine, "QUEUE_FULL_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(engine, "THROTTLED_WAIT_SECONDS", 0.05)
    job = _draft(synced_world, make_csv(_rows(30, start=500)))
    imports.import_dry_run(job=job, mapping=job.parameters["mapping"],
                           list_ids=_lists(synced_world), tag_ids=[])
    job = _start(synced_world, job, django_capture_on_commit_callbacks)
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    sent = [a for a in sim_activities(synced_world, "file_import")
            if job.token in a["source_file_name"]]
    assert len(sent) == 3
    assert job.rows.filter(status=BulkRow.Status.DONE).count() == 30
