"""Reads about sync runs: the active one, recent ones, one run (scoped to the
workspace), how fresh a scope's mirror is, and when beat starts the next run."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.models import SyncRun

_ACTIVE = (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)


@dataclass(frozen=True)
class Freshness:
    """What a screen says about its data's age."""

    synced_at: datetime | None  # when the latest successful sync finished
    active: SyncRun | None  # a sync queued or running now
    last_failed: bool  # the latest finished sync failed

    @property
    def never_synced(self) -> bool:
        return self.synced_at is None


@dataclass(frozen=True)
class Schedule:
    minutes: int
    next_at: datetime


def active_sync_run(*, workspace: Workspace, scope: str) -> SyncRun | None:
    return (
        SyncRun.objects.filter(workspace=workspace, scope=scope, status__in=_ACTIVE)
        .order_by("-created_at", "-pk").first()
    )


def sync_run_latest(*, workspace: Workspace, scope: str) -> SyncRun | None:
    return (
        SyncRun.objects.filter(workspace=workspace, scope=scope)
        .order_by("-created_at", "-pk").first()
    )


def sync_freshness(*, workspace: Workspace, scope: str) -> Freshness:
    runs = SyncRun.objects.filter(workspace=workspace, scope=scope)
    succeeded = (
        runs.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at")
        .values_list("finished_at", flat=True).first()
    )
    latest = sync_run_latest(workspace=workspace, scope=scope)
    active = latest if latest is not None and latest.is_active else None
    last_failed = latest is not None and latest.status == SyncRun.Status.FAILED
    return Freshness(synced_at=succeeded, active=active, last_failed=last_failed)


def sync_runs_recent(*, workspace: Workspace, scope: str, limit: int = 20) -> list[SyncRun]:
    return list(
        SyncRun.objects.filter(workspace=workspace, scope=scope)
        .select_related("requested_by").order_by("-created_at", "-pk")[:limit]
    )


def sync_run_get(*, workspace: Workspace, scope: str, run_id: int) -> SyncRun:
    """The run, if it belongs to `workspace` and `scope`; 404 otherwise."""
    return get_object_or_404(SyncRun, pk=run_id, workspace=workspace, scope=scope)


def sync_run_duration(run: SyncRun, *, now: datetime | None = None) -> timedelta | None:
    if run.started_at is None:
        return None
    return (run.finished_at or now or timezone.now()) - run.started_at


# How often beat runs each scope's incremental sync (see CELERY_BEAT_SCHEDULE).
_INTERVAL_SETTINGS = {
    SyncRun.Scope.CONTACTS: "CCADMIN_CONTACTS_SYNC_MINUTES",
    SyncRun.Scope.CAMPAIGNS: "CCADMIN_CAMPAIGNS_SYNC_MINUTES",
    SyncRun.Scope.SEGMENTS: "CCADMIN_SEGMENTS_SYNC_MINUTES",
    SyncRun.Scope.REPORTS: "CCADMIN_REPORTS_SYNC_MINUTES",
}


def sync_interval_minutes(*, scope: str) -> int:
    return int(getattr(settings, _INTERVAL_SETTINGS[SyncRun.Scope(scope)]))


def sync_schedule(*, scope: str, now: datetime | None = None) -> Schedule:
    """When beat next starts the scope's incremental sync.

    Beat runs it on crontab(minute="*/N") (see the CELERY_BEAT_SCHEDULE entry),
    which fires at the minutes 0, N, 2N, ... of every hour.
    """
    minutes = sync_interval_minutes(scope=scope)
    now = (now or timezone.now()).astimezone(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    for mark in range(0, 60, minutes):
        candidate = hour + timedelta(minutes=mark)
        if candidate > now:
            return Schedule(minutes=minutes, next_at=candidate)
    return Schedule(minutes=minutes, next_at=hour + timedelta(hours=1))
