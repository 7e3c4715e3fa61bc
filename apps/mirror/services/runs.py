"""One mirror sync at a time per workspace and scope: the machinery every sync shares.

A sync (contacts, campaigns, ...) is a `SyncRun` row with a `scope`. Starting one
checks the database for an active run of that scope under a short Redis lock, so
two clicks (or a click and beat) get one run, and queues the scope's Celery task
by name ("contacts.sync"). The worker then holds a run lock that the sync renews
page by page, so a worker that dies frees the workspace within minutes. A failed
run keeps its error on its row and releases the lock.

Each area supplies what differs: its task, which calls `sync_run_execute` with
how to make the object that does the work (anything with `run()`,
`save_counts()` and an `api_calls` tally), usually a `SyncWork`.
"""

from collections.abc import Callable
from datetime import timedelta
import logging
from typing import Protocol

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis.exceptions import LockError, RedisError

from apps.accounts.models import Membership, Workspace
from apps.accounts.selectors import workspace_admin
from apps.audit.services import audit_event_record
from apps.constantcontact import conf
from apps.constantcontact.errors import (
    ConstantContactError,
    LimiterUnavailable,
    NeedsReconnect,
    NotConnected,
)
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.constantcontact.models import Connection
from apps.core.jobs import enqueue
from apps.core.redis import redis_client
from apps.mirror.models import SyncRun
from apps.mirror.selectors.runs import active_sync_run

logger = logging.getLogger(__name__)

# The run lock lives CCADMIN_SYNC_LOCK_SECONDS (five minutes) unless renewed; a
# sync renews it after every page (a page, with the limiter's wait and the
# client's retries, takes well under a minute), so it never expires under a live
# sync, and a worker killed mid-run frees the workspace within five minutes.
# Starting only checks and inserts a row; a few seconds is plenty.
START_LOCK_TTL_SECONDS = 10
# Our clock and Constant Contact's differ, and a change can become visible to a
# query a moment after the time it is stamped with; asking for a few minutes
# more than strictly needed costs a few re-read rows (upserts are idempotent)
# and never misses one.
INCREMENTAL_OVERLAP = timedelta(minutes=5)
# A run still queued after this long was lost with its message (a flushed
# broker, a worker that never came): it stops blocking new runs.
QUEUED_STALE_AFTER = timedelta(hours=1)


class Syncer(Protocol):
    api_calls: int

    def run(self) -> None: ...

    def save_counts(self) -> None: ...


class SyncStopped(Exception):
    """A reason to stop that is already worded for the member."""


def run_lock_key(*, scope: str, workspace_id: int) -> str:
    return f"{conf.redis_prefix()}:{scope}-sync:{workspace_id}"


def _start_lock_key(*, scope: str, workspace_id: int) -> str:
    return f"{conf.redis_prefix()}:{scope}-sync-start:{workspace_id}"


def sync_run_start(
    *,
    workspace: Workspace,
    scope: SyncRun.Scope,
    kind: str,
    membership: Membership,
    scheduled: bool = False,
) -> tuple[SyncRun, bool]:
    """Queue a `scope` sync of `workspace`, or return the one already queued or running.

    `membership` is whom the sync acts for at the gate: the member who pressed the
    button, or (for `scheduled` runs started by beat) a workspace admin. Returns
    (run, created). Raises NotConnected / NeedsReconnect when there is nothing to
    sync from, LimiterUnavailable when Redis (the lock, and the rate limiter the
    sync would need) is down, LockError when another start holds the lock too long.
    """
    scope = SyncRun.Scope(scope)
    if kind not in SyncRun.Kind.values:
        raise ValueError(f"unknown sync kind {kind!r}")
    connection = Connection.objects.filter(workspace=workspace).first()
    if connection is None or connection.status == Connection.Status.NOT_CONNECTED:
        raise NotConnected("This workspace is not connected to Constant Contact.")
    if connection.status == Connection.Status.NEEDS_RECONNECT:
        raise NeedsReconnect("The connection to Constant Contact must be reconnected.")

    # The lock makes check-then-insert atomic across web processes and beat; the
    # transaction commits inside it, so the next holder sees the new row.
    lock = redis_client().lock(
        _start_lock_key(scope=scope, workspace_id=workspace.pk),
        timeout=START_LOCK_TTL_SECONDS, blocking_timeout=START_LOCK_TTL_SECONDS,
    )
    try:
        acquired = lock.acquire()
    except RedisError as exc:
        raise LimiterUnavailable() from exc
    if not acquired:
        # Someone else is starting one this very moment: theirs is the run.
        active = active_sync_run(workspace=workspace, scope=scope)
        if active is not None:
            return active, False
        raise LockError("Could not start the sync; try again in a moment.")
    try:
        with transaction.atomic():
            active = active_sync_run(workspace=workspace, scope=scope)
            if active is not None and _is_orphaned(active):
                sync_run_finish(active, status=SyncRun.Status.FAILED,
                                error="Interrupted: the worker running this sync stopped.")
                active = None
            if active is not None:
                return active, False
            run = SyncRun.objects.create(
                workspace=workspace, scope=scope, kind=kind, status=SyncRun.Status.QUEUED,
                requested_by=None if scheduled else membership.user,
            )
    finally:
        release_lock(lock)

    if not scheduled:
        audit_event_record(
            action=f"{scope}.sync_started", actor=membership.user, workspace=workspace,
            target=f"sync run {run.pk}", details={"kind": kind},
        )
    # Outside the lock: with eager Celery (tests) the task runs right here.
    transaction.on_commit(lambda: enqueue(
        scope.task_name, args=(workspace.pk, run.pk, membership.pk), queue="default"
    ))
    return run, True


def sync_run_schedule_all(*, scope: SyncRun.Scope) -> list[SyncRun]:
    """Beat's dispatcher: an incremental `scope` sync for every connected workspace.

    A scheduled run acts at the gate for a workspace admin — the longest-standing
    one — since no member asked for it: admins hold every grant a sync needs, and
    the audit log then names a person accountable for the workspace.
    """
    started = []
    workspace_ids = Connection.objects.filter(
        status=Connection.Status.CONNECTED
    ).values_list("workspace_id", flat=True)
    for workspace in Workspace.objects.filter(pk__in=list(workspace_ids)).order_by("pk"):
        admin = workspace_admin(workspace=workspace)
        if admin is None:
            logger.warning("%s sync: workspace %s has no active admin; skipped", scope,
                           workspace.pk)
            continue
        try:
            run, created = sync_run_start(workspace=workspace, scope=scope,
                                          kind=SyncRun.Kind.INCREMENTAL, membership=admin,
                                          scheduled=True)
        except (ConstantContactError, LockError) as exc:
            # One workspace's trouble must not stop the others' syncs.
            logger.warning("%s sync: workspace %s not started: %r", scope, workspace.pk, exc)
            continue
        if created:
            started.append(run)
    return started


def _is_orphaned(run: SyncRun) -> bool:
    if run.status == SyncRun.Status.RUNNING:
        # A running run holds the run lock from before it is marked running until
        # after it is marked finished; running without the lock means its worker died.
        return not redis_client().exists(
            run_lock_key(scope=run.scope, workspace_id=run.workspace_id)
        )
    return run.created_at < timezone.now() - QUEUED_STALE_AFTER


def sync_run_execute(
    *,
    scope: SyncRun.Scope,
    job_name: str,
    workspace_id: int,
    sync_run_id: int,
    membership_id: int,
    make_syncer: Callable[[SyncRun, ConstantContact, object, Membership], Syncer],
) -> tuple[SyncRun, Syncer | None]:
    """Run the queued sync `sync_run_id` in a worker; never raises for an upstream
    or data failure — the run ends failed with the error on its row, and the next
    run starts again from the last successful one's high-water mark."""
    run = SyncRun.objects.select_related("workspace").get(
        pk=sync_run_id, workspace_id=workspace_id, scope=scope
    )
    if not run.is_active:
        return run, None  # a redelivered message for a run that already ended
    lock = redis_client().lock(
        run_lock_key(scope=scope, workspace_id=workspace_id),
        timeout=settings.CCADMIN_SYNC_LOCK_SECONDS, blocking=False,
    )
    try:
        acquired = lock.acquire()
    except RedisError:
        logger.warning("%s sync run %s: Redis is down; not started", scope, run.pk)
        sync_run_finish(run, status=SyncRun.Status.FAILED,
                        error=upstream_error_message(LimiterUnavailable()))
        return run, None
    if not acquired:
        if run.status == SyncRun.Status.RUNNING:
            # This very run, running in a live worker: its message was delivered
            # again (acks_late, after the broker's visibility timeout). Leave it be.
            return run, None
        sync_run_finish(run, status=SyncRun.Status.FAILED,
                        error="Another sync of this workspace was already running; this one "
                        "did not start.")
        return run, None
    syncer = None
    try:
        run.status = SyncRun.Status.RUNNING
        run.started_at = timezone.now()
        run.finished_at = None
        run.phase = "starting"
        run.error = ""
        run.save(update_fields=["status", "started_at", "finished_at", "phase", "error"])
        membership = (
            Membership.objects.select_related("user", "role")
            .filter(pk=membership_id, workspace_id=workspace_id).first()
        )
        if membership is None:
            raise SyncStopped("The member this sync was started for has left the workspace.")
        cc = gate_for(workspace=run.workspace, actor=Actor.job(job_name, on_behalf_of=membership))
        syncer = make_syncer(run, cc, lock, membership)
        syncer.run()
    except ConstantContactError as exc:
        if syncer is not None:
            syncer.api_calls += exc.attempts
        _fail(run, syncer, upstream_error_message(exc))
    except SoftTimeLimitExceeded:
        _fail(run, syncer, "Stopped: the sync ran past its time limit. The next run continues "
              "from the last successful one.")
    except SyncStopped as exc:
        _fail(run, syncer, str(exc))
    except Exception:  # failure isolation: the row says so, the worker lives on
        logger.exception("%s sync run %s failed", scope, run.pk)
        _fail(run, syncer, "An unexpected error stopped the sync; the server log has the details.")
    finally:
        release_lock(lock)
    return run, syncer


def _fail(run: SyncRun, syncer: Syncer | None, error: str) -> None:
    if syncer is not None:
        syncer.save_counts()
    sync_run_finish(run, status=SyncRun.Status.FAILED, error=error)


def sync_run_finish(run: SyncRun, *, status: str, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])


def release_lock(lock) -> None:
    try:
        lock.release()
    except LockError:
        pass  # it expired; nobody else can have taken it while we ran past it
    except RedisError as exc:
        logger.warning("sync lock not released (it expires by itself): %r", exc)


class SyncWork:
    """What every scope's sync does around its own reads: tallies on the run row,
    the incremental starting point, renewing the run lock, finishing."""

    def __init__(self, *, run: SyncRun, cc: ConstantContact, lock):
        self.run_row = run
        self.workspace = run.workspace
        self.cc = cc
        self.lock = lock
        self.api_calls = 0
        self.processed = 0
        self.total_expected: int | None = None
        self.created = self.updated = self.deleted = 0

    def incremental_since(self):
        """Where an incremental run starts: the last successful run of this scope's
        high-water mark, less an overlap. None means read everything: a full run, or
        an incremental one with nothing to be incremental from (it becomes full)."""
        if self.run_row.kind != SyncRun.Kind.INCREMENTAL:
            return None
        previous = (
            SyncRun.objects.filter(
                workspace=self.workspace, scope=self.run_row.scope,
                status=SyncRun.Status.SUCCEEDED, high_water_mark__isnull=False,
            ).order_by("-high_water_mark").first()
        )
        if previous is None:
            self.run_row.kind = SyncRun.Kind.FULL
            self.run_row.save(update_fields=["kind"])
            return None
        return previous.high_water_mark - INCREMENTAL_OVERLAP

    def succeed(self, *, high_water_mark) -> None:
        self.run_row.high_water_mark = high_water_mark
        self.run_row.phase = "done"
        self.run_row.status = SyncRun.Status.SUCCEEDED
        self.run_row.finished_at = timezone.now()
        self.apply_counts()
        self.run_row.save()

    def set_phase(self, phase: str) -> None:
        self.run_row.phase = phase
        SyncRun.objects.filter(pk=self.run_row.pk).update(phase=phase)

    def apply_counts(self) -> None:
        row = self.run_row
        row.api_calls = self.api_calls
        row.processed = self.processed
        row.total_expected = self.total_expected
        row.created_count = self.created
        row.updated_count = self.updated
        row.deleted_count = self.deleted

    def save_counts(self) -> None:
        self.apply_counts()
        row = self.run_row
        SyncRun.objects.filter(pk=row.pk).update(
            api_calls=row.api_calls, processed=row.processed, total_expected=row.total_expected,
            created_count=row.created_count, updated_count=row.updated_count,
            deleted_count=row.deleted_count,
        )

    def renew_lock(self) -> None:
        try:
            self.lock.reacquire()
        except LockError as exc:
            raise SyncStopped(
                "Stopped: this sync lost its lock (it was too slow to renew it), so another "
                "sync may have started."
            ) from exc
        except RedisError as exc:
            raise SyncStopped(
                "Stopped: Redis, which holds this sync's lock and the shared rate limiter, "
                "stopped answering. The next run continues from the last successful one."
            ) from exc
