"""Keeping a sync's anomalies (apps.mirror.mapping.Anomaly, recorded page by page
by apps.mirror.services.batches) to the run the sync screen shows."""

from apps.mirror.models import SyncAnomaly, SyncRun


def sync_anomalies_forget_earlier(*, sync_run: SyncRun) -> int:
    """Drop the anomalies of the workspace's earlier runs of the same scope.

    The screen shows the latest run's, and each run records its own again for
    every record it reads, so the older ones would only pile up: a full sync of
    an account with one odd field on every contact records one row per contact.
    Returns how many went."""
    deleted, _ = SyncAnomaly.objects.filter(
        sync_run__workspace_id=sync_run.workspace_id, sync_run__scope=sync_run.scope,
    ).exclude(sync_run=sync_run).delete()
    return deleted
