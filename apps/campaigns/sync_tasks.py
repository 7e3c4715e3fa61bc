"""Celery tasks for the campaigns sync: one workspace's run, and beat's dispatcher
that starts an incremental run for every connected workspace.

Thin, like the contacts tasks: they take ids and call one service. The run never
raises for an upstream or data failure (its row records it), so Celery does not
retry it: the next run, by hand or by beat, is the retry.

Celery's autodiscovery imports only `tasks.py` modules; apps/campaigns/tasks.py
imports this one so workers know these tasks.
"""

from celery import shared_task
from django.conf import settings

from apps.campaigns.services.sync import campaigns_sync_run, campaigns_sync_schedule_all

# Campaign counts are small (hundreds, rarely thousands): a full run is one call
# per 500 campaigns plus two or three per changed campaign. Ten minutes covers a
# thousand changed campaigns at a quarter of the shared 4 calls/second; past
# that something is stuck. The soft limit lets the run record why it stopped.
SOFT_TIME_LIMIT = getattr(settings, "CCADMIN_CAMPAIGNS_SYNC_TIME_LIMIT", 10 * 60)


@shared_task(name="campaigns.sync", queue="default", soft_time_limit=SOFT_TIME_LIMIT,
             time_limit=SOFT_TIME_LIMIT + 60)
def campaigns_sync(workspace_id: int, sync_run_id: int, membership_id: int) -> None:
    campaigns_sync_run(workspace_id=workspace_id, sync_run_id=sync_run_id,
                       membership_id=membership_id)


@shared_task(name="campaigns.sync_scheduled", queue="default")
def campaigns_sync_scheduled() -> int:
    """Run by beat every CCADMIN_CAMPAIGNS_SYNC_MINUTES; returns how many it started."""
    return len(campaigns_sync_schedule_all())
