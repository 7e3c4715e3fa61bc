"""The audience in three numbers: contacts, the share that can be emailed, lists.

Counting every contact is the one read here that grows with the account, so
the counts are cached per workspace and taken again when a contacts sync run
moves (the same marker the contacts screen keys its total on) or after a minute.
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q

from apps.accounts.models import Workspace
from apps.mirror.models import Contact, ContactList, EmailStatus, SyncRun
from apps.mirror.selectors.audience import SENDABLE

# A write made on a screen (a new contact, an import) shows within this long.
CACHE_SECONDS = 60


@dataclass(frozen=True)
class ContactCounts:
    total: int  # not removed
    sendable: int  # explicit or implicit permission: who a campaign reaches
    unsubscribed: int

    @property
    def sendable_percent(self) -> float | None:
        return 100.0 * self.sendable / self.total if self.total else None


def _sync_marker(workspace: Workspace) -> list:
    run = (SyncRun.objects.filter(workspace=workspace, scope=SyncRun.Scope.CONTACTS)
           .order_by("-created_at").values_list("id", "status", "processed").first())
    return list(run) if run else []


def contact_counts(*, workspace: Workspace) -> ContactCounts:
    key = f"dashboard:contact-counts:{workspace.pk}"
    marker = _sync_marker(workspace)
    cached = cache.get(key)
    if cached is not None and cached.get("marker") == marker:
        return ContactCounts(**cached["counts"])
    counts = Contact.objects.filter(workspace=workspace, deleted_upstream__isnull=True).aggregate(
        total=Count("pk"),
        sendable=Count("pk", filter=Q(email_status__in=SENDABLE)),
        unsubscribed=Count("pk", filter=Q(email_status=EmailStatus.UNSUBSCRIBED)),
    )
    cache.set(key, {"marker": marker, "counts": counts}, CACHE_SECONDS)
    return ContactCounts(**counts)


def list_count(*, workspace: Workspace) -> int:
    """Lists in use (one being deleted is on its way out)."""
    return ContactList.objects.filter(workspace=workspace, delete_activity_id="").count()
