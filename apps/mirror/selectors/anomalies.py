"""Reads about what a sync could not mirror as sent (SyncAnomaly rows)."""

from dataclasses import dataclass

from django.db.models import Count, Q

from apps.mirror.models import SyncAnomaly, SyncRun

# The sync screen lists this many; the counts cover them all.
SHOWN = 100


@dataclass(frozen=True)
class RunAnomalies:
    quarantined: int  # records left out of the mirror
    adjusted: int  # values clipped or left out of a mirrored record
    shown: list[SyncAnomaly]  # the first SHOWN, quarantined records first

    @property
    def total(self) -> int:
        return self.quarantined + self.adjusted


def sync_run_anomalies(*, sync_run: SyncRun, limit: int = SHOWN) -> RunAnomalies:
    rows = SyncAnomaly.objects.filter(sync_run=sync_run)
    counts = rows.aggregate(quarantined=Count("id", filter=Q(quarantined=True)),
                            total=Count("id"))
    shown = list(rows.order_by("-quarantined", "id")[:limit]) if counts["total"] else []
    return RunAnomalies(quarantined=counts["quarantined"],
                        adjusted=counts["total"] - counts["quarantined"], shown=shown)
