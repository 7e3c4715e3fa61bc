"""Celery tasks of the segments area: one workspace's segments sync, beat's
dispatcher of those syncs, and an exact count asked for by a member.

All thin: they take ids and call one service. The sync never raises for an
upstream or data failure (its run row records it), so Celery does not retry it.
The count owns its one retry: Constant Contact's "still evaluating" (202) is
asked again a few seconds later, a bounded number of times (the service counts
them on the row).
"""

from celery import shared_task

from apps.segments.services.counts import (
    EVALUATING_RETRY_SECONDS,
    SegmentStillEvaluating,
    segment_count_run,
)
from apps.segments.services.sync import segments_sync_run, segments_sync_schedule_all

# A run is one listing call plus one call per new or edited segment (100 at most):
# well under a minute at Constant Contact's 4 calls a second. Past five minutes
# something is stuck; the soft limit lets the run record why it stopped.
SYNC_TIME_LIMIT = 5 * 60
# A count of N contacts takes N/500 calls: 100,000 contacts is 200 calls, under a
# minute at 4 a second; ten minutes leaves room for a busy shared budget.
COUNT_TIME_LIMIT = 10 * 60


@shared_task(name="segments.sync", queue="default", soft_time_limit=SYNC_TIME_LIMIT,
             time_limit=SYNC_TIME_LIMIT + 60)
def segments_sync(workspace_id: int, sync_run_id: int, membership_id: int) -> None:
    segments_sync_run(workspace_id=workspace_id, sync_run_id=sync_run_id,
                      membership_id=membership_id)


@shared_task(name="segments.sync_scheduled", queue="default")
def segments_sync_scheduled() -> int:
    """Run by beat every CCADMIN_SEGMENTS_SYNC_MINUTES; returns how many it started."""
    return len(segments_sync_schedule_all())


@shared_task(bind=True, name="segments.count", queue="interactive", acks_late=True,
             soft_time_limit=COUNT_TIME_LIMIT, time_limit=COUNT_TIME_LIMIT + 60)
def segment_count(self, count_id: int, membership_id: int) -> None:
    try:
        segment_count_run(count_id=count_id, membership_id=membership_id)
    except SegmentStillEvaluating:
        # Eagerly (tests, no worker) this runs again at once; the service's bound
        # on 202 answers ends it either way.
        segment_count.apply_async(args=(count_id, membership_id),
                                  countdown=EVALUATING_RETRY_SECONDS, queue="interactive")
