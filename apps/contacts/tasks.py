"""Celery tasks of the contacts area: one workspace's sync, and beat's dispatcher
that starts an incremental sync for every connected workspace.

Both are thin: they take ids and call one service. The sync never raises for an
upstream or data failure (the run row records it), so Celery does not retry it:
the next run, by hand or by beat, is the retry.
"""

from celery import shared_task
from django.conf import settings

from apps.contacts.services.sync import contacts_sync_run, contacts_sync_schedule_all

# Bounded (the reasoning is beside the setting): past it something is stuck, and
# the limit frees the worker; the soft limit lets the run record why it stopped.
SOFT_TIME_LIMIT = settings.CCADMIN_CONTACTS_SYNC_TIME_LIMIT


@shared_task(name="contacts.sync", queue="default", soft_time_limit=SOFT_TIME_LIMIT,
             time_limit=SOFT_TIME_LIMIT + 60)
def contacts_sync(workspace_id: int, sync_run_id: int, membership_id: int) -> None:
    contacts_sync_run(workspace_id=workspace_id, sync_run_id=sync_run_id,
                      membership_id=membership_id)


@shared_task(name="contacts.sync_scheduled", queue="default")
def contacts_sync_scheduled() -> int:
    """Run by beat every CCADMIN_CONTACTS_SYNC_MINUTES; returns how many it started."""
    return len(contacts_sync_schedule_all())
