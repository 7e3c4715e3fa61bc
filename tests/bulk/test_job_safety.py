"""What a running delete or export must never do (review of bf1a6cc): delete
without a complete snapshot, download inside a database transaction, write a
second empty file when resumed after a kill, or store a snapshot that no
longer imports back as it was. And the download counter counts every download."""

import csv
import io

from django.db import connection
from django.db.models import F
from django.urls import reverse

from apps.bulk.models import BulkFile, BulkJob
from apps.bulk.selectors.selections import selection_from_json
from apps.bulk.services import engine
from apps.bulk.services.actions import action_start
from apps.bulk.services.imports import import_from_snapshot, import_table
from apps.bulk.services.jobs import bulk_job_run
from apps.mirror.models import Contact
from tests.bulk.conftest import sim_activities

Kind = BulkJob.Kind


def _chosen(world, n):
    pks = list(Contact.objects.filter(workspace=world.workspace, deleted_upstream=None)
               .order_by("pk").values_list("pk", flat=True))[:n]
    return selection_from_json(workspace=world.workspace, data={"mode": "contacts", "ids": pks})


def _run(world, capture, **kwargs):
    with capture(execute=True):
        job = action_start(membership=world.membership("editor"), **kwargs)
    job.refresh_from_db()
    return job


def _sim_contact(world, contact):
    return world.sim.state.contacts[contact.cc_id]


def test_an_export_that_finished_without_a_file_deletes_nothing(
        synced_world, fast_waits, monkeypatch, django_capture_on_commit_callbacks):
    real_call = engine.Run.call

    def call(run, name, **kwargs):
        result = real_call(run, name, **kwargs)
        data = result.data
        if name == "activities.get" and isinstance(data, dict):
            (data.get("_links") or {}).pop("results", None)  # finished, but no file named
        return result

    monkeypatch.setattr(engine.Run, "call", call)
    selection = _chosen(synced_world, 4)
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.DELETE,
               selection=selection, confirmation="delete 4")
    assert job.state == BulkJob.State.FAILED
    assert "no file" in job.error
    assert not sim_activities(synced_world, "contact_delete")
    assert Contact.objects.filter(pk__in=selection.ids, deleted_upstream=None).count() == 4
    assert not job.files.filter(kind=BulkFile.Kind.SNAPSHOT).exists()


def test_a_snapshot_short_of_the_selection_deletes_nothing(
        synced_world, fast_waits, django_capture_on_commit_callbacks):
    selection = _chosen(synced_world, 4)
    gone = Contact.objects.get(pk=selection.ids[0])
    with synced_world.sim.state.lock:
        # Deleted upstream since the last sync: the export leaves it out.
        _sim_contact(synced_world, gone)["deleted_at"] = "2026-01-01T00:00:00Z"
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.DELETE,
               selection=selection, confirmation="delete 4")
    assert job.state == BulkJob.State.FAILED
    assert "3 of the 4" in job.error
    assert not sim_activities(synced_world, "contact_delete")
    assert Contact.objects.filter(pk__in=selection.ids[1:], deleted_upstream=None).count() == 3


def test_the_export_file_is_downloaded_outside_any_transaction(
        synced_world, fast_waits, monkeypatch, django_capture_on_commit_callbacks):
    depth: dict[str, int] = {}
    real_call = engine.Run.call

    def call(run, name, **kwargs):
        depth.setdefault(name, len(connection.atomic_blocks))
        return real_call(run, name, **kwargs)

    monkeypatch.setattr(engine.Run, "call", call)
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.EXPORT,
               selection=_chosen(synced_world, 3), fields=["first_name"])
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    # As deep as the poll that found the activity finished, not one block deeper.
    assert depth["activities.export_download"] == depth["activities.get"]


def test_a_resumed_export_after_a_kill_keeps_the_one_file(
        synced_world, fast_waits, django_capture_on_commit_callbacks):
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.EXPORT,
               selection=_chosen(synced_world, 5), fields=["first_name"])
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    # What a worker killed right after the file committed left behind: the file
    # written and the parts emptied, but the step not marked done.
    BulkJob.objects.filter(pk=job.pk).update(
        state=BulkJob.State.RUNNING, finished_at=None,
        steps_done=[s for s in job.steps_done if s != "stored"])
    job = bulk_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    files = list(job.files.filter(kind=BulkFile.Kind.EXPORT))
    assert len(files) == 1 and files[0].rows == 5
    assert job.counts["exported"] == 5
    assert "stored" in job.steps_done


def test_a_snapshot_keeps_phone_numbers_as_they_were_and_the_download_is_neutralised(
        synced_world, fast_waits, client, django_capture_on_commit_callbacks):
    selection = _chosen(synced_world, 2)
    contact = Contact.objects.get(pk=selection.ids[0])
    with synced_world.sim.state.lock:
        _sim_contact(synced_world, contact)["phone_numbers"] = [
            {"phone_number": "+1 555 0100", "kind": "mobile"}]
    job = _run(synced_world, django_capture_on_commit_callbacks, kind=Kind.DELETE,
               selection=selection, confirmation="delete 2")
    assert job.state == BulkJob.State.SUCCEEDED, job.error
    snapshot = job.files.get(kind=BulkFile.Kind.SNAPSHOT)
    stored = list(csv.reader(io.StringIO(bytes(snapshot.content).decode())))
    phones = [row[stored[0].index("phone_number")] for row in stored[1:]]
    assert "+1 555 0100" in phones
    # Imported back: the phone as it was, no apostrophe.
    draft = import_from_snapshot(snapshot=snapshot, user=synced_world.editor)
    table = import_table(job=draft)
    column = table.header.index("phone_number")
    assert "+1 555 0100" in [row[column] for row in table.rows]
    # Downloaded: a spreadsheet would run "+1 555 0100", so it is made text.
    client.force_login(synced_world.editor)
    answer = client.get(reverse("bulk:file_download", kwargs={
        "workspace_slug": synced_world.workspace.slug, "file_id": snapshot.pk}))
    assert answer.status_code == 200
    assert b"'+1 555 0100" in answer.content


def test_two_downloads_at_once_both_count(synced_world, client, monkeypatch):
    from apps.bulk.views import jobs as views

    job = BulkJob.objects.create(workspace=synced_world.workspace, kind=Kind.EXPORT,
                                 state=BulkJob.State.SUCCEEDED, created_by=synced_world.editor,
                                 title="Export")
    stored = BulkFile.objects.create(job=job, kind=BulkFile.Kind.EXPORT, name="e.csv",
                                     content=b"email_address\na@example.com\n", rows=1)
    real = views.bulk_file_for

    def racing(**kwargs):
        found = real(**kwargs)
        # Another download counted between this one's read and its write.
        BulkFile.objects.filter(pk=found.pk).update(downloads=F("downloads") + 1)
        return found

    monkeypatch.setattr(views, "bulk_file_for", racing)
    client.force_login(synced_world.editor)
    answer = client.get(reverse("bulk:file_download", kwargs={
        "workspace_slug": synced_world.workspace.slug, "file_id": stored.pk}))
    assert answer.status_code == 200
    stored.refresh_from_db()
    assert stored.downloads == 2
