"""Starting and running syncs: one at a time per workspace, a run row with
progress and counts, failures kept on the row with the lock released, and beat's
dispatcher starting an incremental sync for every connected workspace."""

from datetime import timedelta

from django.utils import timezone
import pytest

from apps.audit.models import AuditEvent
from apps.constantcontact.errors import NotConnected
from apps.constantcontact.models import Connection
from apps.contacts.services.sync import (
    contacts_sync_run,
    contacts_sync_schedule_all,
    contacts_sync_start,
    run_lock_key,
)
from apps.contacts.tasks import contacts_sync_scheduled
from apps.core.redis import redis_client
from apps.mirror.models import Contact, SyncRun
from tests.factories import ContactFactory, RoleFactory, SyncRunFactory


def start(world, kind="incremental", who="editor"):
    """Start without running: the task is enqueued on commit, which never comes here."""
    return contacts_sync_start(workspace=world.workspace, kind=kind,
                               membership=world.membership(who))


def lock_held(world) -> bool:
    return bool(redis_client().exists(run_lock_key(workspace_id=world.workspace.pk)))


# --- single flight -------------------------------------------------------------------

def test_a_second_start_returns_the_run_already_queued(connected_world):
    first, created = start(connected_world)
    second, created_again = start(connected_world, kind="full", who="admin")

    assert created and not created_again
    assert second.pk == first.pk
    assert SyncRun.objects.filter(workspace=connected_world.workspace).count() == 1


def test_a_second_start_returns_the_run_already_running(connected_world):
    running = SyncRunFactory(workspace=connected_world.workspace, status=SyncRun.Status.RUNNING,
                             started_at=timezone.now())
    lock = redis_client().lock(run_lock_key(workspace_id=connected_world.workspace.pk), timeout=60)
    assert lock.acquire(blocking=False)
    try:
        again, created = start(connected_world)
    finally:
        lock.release()

    assert not created and again.pk == running.pk


def test_a_run_whose_worker_died_stops_blocking_new_ones(connected_world):
    """Running without the run lock: its worker is gone (the lock is renewed every page)."""
    orphan = SyncRunFactory(workspace=connected_world.workspace, status=SyncRun.Status.RUNNING,
                            started_at=timezone.now())

    run, created = start(connected_world)

    orphan.refresh_from_db()
    assert created and run.pk != orphan.pk
    assert orphan.status == SyncRun.Status.FAILED
    assert "Interrupted" in orphan.error


def test_a_run_queued_for_hours_was_lost_and_stops_blocking(connected_world):
    lost = SyncRunFactory(workspace=connected_world.workspace,
                          created_at=timezone.now() - timedelta(hours=2))

    _, created = start(connected_world)

    lost.refresh_from_db()
    assert created and lost.status == SyncRun.Status.FAILED


def test_syncs_of_different_workspaces_do_not_block_each_other(connected_world):
    start(connected_world)
    other = SyncRunFactory(workspace=connected_world.other_workspace)

    assert other.is_active
    assert SyncRun.objects.filter(status=SyncRun.Status.QUEUED).count() == 2


def test_a_run_that_finds_the_lock_taken_does_not_sync(connected_world):
    run, _ = start(connected_world)
    lock = redis_client().lock(run_lock_key(workspace_id=connected_world.workspace.pk), timeout=60)
    assert lock.acquire(blocking=False)
    try:
        contacts_sync_run(workspace_id=connected_world.workspace.pk, sync_run_id=run.pk,
                          membership_id=connected_world.membership("editor").pk)
    finally:
        lock.release()

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "already running" in run.error
    assert not Contact.objects.exists()


def test_a_redelivered_task_for_a_finished_run_does_nothing(connected_world, run_sync):
    done = run_sync("full")
    calls = done.api_calls

    contacts_sync_run(workspace_id=connected_world.workspace.pk, sync_run_id=done.pk,
                      membership_id=connected_world.membership("editor").pk)

    done.refresh_from_db()
    assert done.status == SyncRun.Status.SUCCEEDED and done.api_calls == calls


def test_starting_is_refused_without_a_connection(world):
    admin = world.workspace.memberships.get(user=world.admin)
    with pytest.raises(NotConnected):
        contacts_sync_start(workspace=world.workspace, kind="full", membership=admin)
    assert not SyncRun.objects.exists()


def test_a_member_started_sync_is_audited_and_acts_as_a_job_for_them(connected_world, run_sync):
    run = run_sync("full", who="editor")

    assert run.requested_by == connected_world.editor
    assert AuditEvent.objects.filter(action="contacts.sync_started",
                                     actor=connected_world.editor).count() == 1
    calls = AuditEvent.objects.filter(action="cc.contacts.list")
    assert calls.exists()
    assert all(e.actor_label == "editor@example.com (job contacts.sync)" for e in calls)


# --- failures ------------------------------------------------------------------------

def test_an_upstream_that_keeps_failing_fails_the_run_and_frees_the_lock(
    connected_world, run_sync, no_backoff
):
    connected_world.sim.faults.set(error_rate_500=1.0)

    run = run_sync("full")

    assert run.status == SyncRun.Status.FAILED
    assert "did not answer in time or is unavailable" in run.error
    assert run.finished_at is not None
    assert run.api_calls >= 1  # the retries of the first call count too
    assert not lock_held(connected_world)
    connected_world.sim.faults.clear()
    assert run_sync("full").status == SyncRun.Status.SUCCEEDED


def test_a_spent_daily_quota_fails_the_run_with_the_reason(connected_world, run_sync):
    connected_world.sim.quota.per_day = 2  # the OAuth dance used the account summary call

    run = run_sync("full")

    assert run.status == SyncRun.Status.FAILED
    assert "daily API limit" in run.error
    assert not lock_held(connected_world)


def test_a_failure_midway_keeps_the_pages_written_and_removes_nothing(
    connected_world, run_sync, no_backoff, monkeypatch
):
    from apps.contacts.services import sync as sync_service

    stray = ContactFactory(workspace=connected_world.workspace, cc_id="not-upstream")
    monkeypatch.setattr(sync_service, "CONTACTS_PAGE", 10)  # three pages of the 30
    write_page = sync_service.mirror_contacts_page

    def then_fail(**kwargs):
        written = write_page(**kwargs)
        connected_world.sim.faults.set(error_rate_500=1.0)  # every later request fails
        return written

    monkeypatch.setattr(sync_service, "mirror_contacts_page", then_fail)

    run = run_sync("full")

    assert run.status == SyncRun.Status.FAILED
    assert run.phase == "contacts"
    assert run.processed == 10 and run.created_count == 10
    assert Contact.objects.exclude(pk=stray.pk).count() == 10
    # Unseen rows are only dropped at the end of a complete full sync.
    assert Contact.objects.filter(pk=stray.pk).exists()


def test_a_member_who_lost_the_grant_fails_the_queued_run(connected_world, run_sync):
    membership = connected_world.membership("editor")
    no_access = RoleFactory(workspace=connected_world.workspace, name="Nothing", grants={})
    membership.role = no_access
    membership.save()

    run = run_sync("full", who="editor")

    assert run.status == SyncRun.Status.FAILED
    assert "role does not allow" in run.error
    assert run.api_calls == 0  # refused at the gate: nothing left the machine


def test_a_grant_revoked_mid_run_stops_the_sync_at_its_next_page(
    connected_world, run_sync, monkeypatch
):
    # The gate re-reads the member's role on every call, so a long sync stops at
    # the next page once its member lost the grant, not when it is done.
    from apps.contacts.services import sync as sync_service

    monkeypatch.setattr(sync_service, "CONTACTS_PAGE", 10)  # three pages of the 30
    write_page = sync_service.mirror_contacts_page

    def then_revoke(**kwargs):
        written = write_page(**kwargs)
        membership = connected_world.membership("editor")
        membership.role = RoleFactory(workspace=connected_world.workspace, name="Nothing",
                                      grants={})
        membership.save()
        return written

    monkeypatch.setattr(sync_service, "mirror_contacts_page", then_revoke)

    run = run_sync("full", who="editor")

    assert run.status == SyncRun.Status.FAILED
    assert "role does not allow" in run.error
    assert run.processed == 10  # the first page, and not one more
    refused = AuditEvent.objects.filter(action="cc.contacts.list", outcome="denied")
    assert refused.count() == 1


# --- beat ----------------------------------------------------------------------------

def test_beat_starts_an_incremental_sync_for_each_connected_workspace(
    connected_world, run_sync, django_capture_on_commit_callbacks
):
    run_sync("full")

    with django_capture_on_commit_callbacks(execute=True):
        started = contacts_sync_scheduled.delay().get()

    assert started == 1  # the other workspace isn't connected
    run = SyncRun.objects.filter(workspace=connected_world.workspace).first()
    assert run.kind == SyncRun.Kind.INCREMENTAL and run.status == SyncRun.Status.SUCCEEDED
    assert run.requested_by is None
    # It acts for the workspace's admin.
    calls = AuditEvent.objects.filter(action="cc.contacts.list").order_by("-pk")
    assert calls.first().actor_label == "admin@example.com (job contacts.sync)"


def test_beat_does_not_start_a_second_sync_beside_a_running_one(connected_world):
    queued, _ = start(connected_world)

    started = contacts_sync_schedule_all()

    assert started == []
    assert SyncRun.objects.filter(workspace=connected_world.workspace).count() == 1
    assert SyncRun.objects.get().pk == queued.pk


def test_beat_skips_a_connection_that_needs_reconnecting(connected_world):
    Connection.objects.filter(workspace=connected_world.workspace).update(
        status=Connection.Status.NEEDS_RECONNECT
    )

    assert contacts_sync_schedule_all() == []
    assert not SyncRun.objects.exists()


def test_a_redelivered_message_for_a_run_still_running_leaves_it_alone(connected_world):
    # acks_late: the broker hands a long run's message out again after its visibility
    # timeout while the first worker still runs it and holds the run lock.
    run = SyncRunFactory(workspace=connected_world.workspace, status=SyncRun.Status.RUNNING,
                         started_at=timezone.now())
    lock = redis_client().lock(run_lock_key(workspace_id=connected_world.workspace.pk),
                               timeout=60)
    assert lock.acquire(blocking=False)
    try:
        contacts_sync_run(workspace_id=connected_world.workspace.pk, sync_run_id=run.pk,
                          membership_id=connected_world.membership("admin").pk)
    finally:
        lock.release()

    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING
    assert run.error == ""
