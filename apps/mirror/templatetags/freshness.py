"""Template helpers for sync freshness, so any page can say how old its data is
with nothing in its view: `{% freshness_line request "contacts" as line %}` (see
templates/contacts/_freshness.html)."""

from dataclasses import dataclass
from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from apps.accounts.grants import Access, Area
from apps.mirror.models import SyncRun
from apps.mirror.selectors.runs import Freshness, sync_freshness

register = template.Library()


@dataclass(frozen=True)
class FreshnessLine:
    freshness: Freshness
    age: str  # "4 minutes ago", "just now"; empty when never synced
    can_start: bool  # the member may start a sync (write access to the scope's area)


# The area whose write access lets a member start each scope's sync.
_SCOPE_AREAS = {
    SyncRun.Scope.CONTACTS: Area.CONTACTS,
    SyncRun.Scope.CAMPAIGNS: Area.CAMPAIGNS,
    SyncRun.Scope.SEGMENTS: Area.SEGMENTS,
    SyncRun.Scope.REPORTS: Area.REPORTS,
}


@register.simple_tag
def freshness_line(request, scope: str) -> FreshnessLine | None:
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return None
    scope = SyncRun.Scope(scope)
    freshness = sync_freshness(workspace=workspace, scope=scope)
    age = ""
    if freshness.synced_at is not None:
        now = timezone.now()
        age = ("just now" if now - freshness.synced_at < timedelta(minutes=1)
               else f"{timesince(freshness.synced_at, now, depth=1)} ago")
    role = getattr(request, "role", None)
    can_start = role is not None and role.allows(_SCOPE_AREAS[scope], Access.WRITE)
    return FreshnessLine(freshness=freshness, age=age, can_start=can_start)


@register.filter
def sync_duration(value: timedelta | None) -> str:
    """42 s, 3 min 5 s, 1 h 2 min."""
    if value is None:
        return "—"
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
