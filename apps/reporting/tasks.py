"""Celery tasks of the reporting area: one workspace's reports refresh, and
beat's dispatcher of those refreshes. Thin: each takes ids and calls one service."""

from celery import shared_task
from django.conf import settings

from apps.reporting.services.refresh import reports_refresh_run, reports_refresh_schedule_all

# Bounded (the reasoning is beside the setting): past it something is stuck; the
# soft limit lets the run record why it stopped.
SYNC_SOFT_TIME_LIMIT = settings.CCADMIN_REPORTS_SYNC_TIME_LIMIT


@shared_task(name="reports.sync", queue="default", soft_time_limit=SYNC_SOFT_TIME_LIMIT,
             time_limit=SYNC_SOFT_TIME_LIMIT + 60)
def reports_sync(workspace_id: int, sync_run_id: int, membership_id: int) -> None:
    reports_refresh_run(workspace_id=workspace_id, sync_run_id=sync_run_id,
                        membership_id=membership_id)


@shared_task(name="reports.sync_scheduled", queue="default")
def reports_sync_scheduled() -> int:
    """Run by beat every CCADMIN_REPORTS_SYNC_MINUTES; returns how many it started."""
    return len(reports_refresh_schedule_all())
