"""The campaigns side of the overview: what waits for my review, what is
scheduled over the next two weeks, and how the latest sends did.

Everything comes from the mirror, the approvals table and the report cache:
a fixed handful of queries, however many campaigns there are.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Count, Q
from django.utils import timezone

from apps.accounts.models import Membership, Workspace
from apps.campaigns.models import Approval
from apps.campaigns.selectors.approvals import campaigns_awaiting_review
from apps.mirror.models import CampaignStatus, EmailActivity
from apps.mirror.selectors.audience import list_names
from apps.mirror.selectors.segments import segment_names
from apps.reporting.models import CampaignReport

REVIEWS_SHOWN = 6
TIMELINE_DAYS = 14
# More sends than this in two weeks is a list for the campaigns screen, not a card.
TIMELINE_MAX = 60
RECENT_SENDS = 5


# --- Waiting for my review ----------------------------------------------------------

@dataclass(frozen=True)
class Reviews:
    approvals: list[Approval]
    total: int


def reviews_waiting_for(*, membership: Membership) -> Reviews:
    """Pending reviews this member may decide on, by the campaigns area's own rule
    (`campaigns_awaiting_review`, the list's "Needs my review" filter, so the two
    agree), each with who asked and when. Oldest first: they have waited longest.
    Two queries."""
    awaiting = campaigns_awaiting_review(membership=membership)
    pending = Approval.objects.filter(campaign__in=awaiting.values("pk"),
                                      decision=Approval.Decision.PENDING)
    shown = list(pending.select_related("campaign", "requested_by")
                 .defer("snapshot", "campaign__raw")
                 .order_by("requested_at", "id")[:REVIEWS_SHOWN])
    return Reviews(approvals=shown, total=awaiting.count())


# --- Scheduled sends ------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduledSend:
    email: EmailActivity
    at: datetime  # in the member's zone
    audience: list[str]


@dataclass
class TimelineDay:
    day: date
    label: str  # "Today", "Tomorrow", "Friday 11 December"
    sends: list[ScheduledSend] = field(default_factory=list)


@dataclass(frozen=True)
class Timeline:
    days: list[TimelineDay]
    start: datetime
    end: datetime
    later: int  # scheduled after the window
    time_unknown: int  # scheduled, but the mirror hasn't read when yet
    more: int = 0  # in the window beyond TIMELINE_MAX

    @property
    def count(self) -> int:
        return sum(len(d.sends) for d in self.days) + self.more


def _day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    return f"{day:%A} {day.day} {day:%B}"


def _audience_names(workspace: Workspace, emails: Iterable[EmailActivity]) -> dict:
    emails = list(emails)
    lists = list_names(workspace=workspace, cc_ids={
        str(i) for e in emails for i in (e.contact_list_ids or [])})
    segments = segment_names(workspace=workspace, cc_ids={
        str(i) for e in emails for i in (e.segment_ids or [])})
    names = {}
    for email in emails:
        names[email.pk] = (
            [f"segment “{segments.get(str(i), i)}”" for i in email.segment_ids or []]
            + [lists.get(str(i), f"list {i}") for i in email.contact_list_ids or []])
    return names


def scheduled_timeline(*, workspace: Workspace, zone: tzinfo, now: datetime,
                       days: int = TIMELINE_DAYS) -> Timeline:
    """Scheduled sends from the start of today to `days` days ahead, grouped by
    day in `zone` (the member's): four queries."""
    today = timezone.localtime(now, zone).date()
    start = timezone.make_aware(datetime.combine(today, time.min), zone)
    end = timezone.make_aware(datetime.combine(today + timedelta(days=days), time.min), zone)
    scheduled = EmailActivity.objects.filter(campaign__workspace=workspace,
                                             campaign__status=CampaignStatus.SCHEDULED)
    rows = list(scheduled.filter(scheduled_at__gte=start, scheduled_at__lt=end)
                .select_related("campaign").defer("html_content", "raw", "campaign__raw")
                .order_by("scheduled_at", "pk")[:TIMELINE_MAX + 1])
    more = max(0, len(rows) - TIMELINE_MAX)
    rows = rows[:TIMELINE_MAX]
    elsewhere = scheduled.aggregate(
        later=Count("pk", filter=Q(scheduled_at__gte=end)),
        unknown=Count("pk", filter=Q(scheduled_at__isnull=True)),
    )
    audience = _audience_names(workspace, rows)
    grouped: dict[date, TimelineDay] = {}
    for email in rows:
        at = timezone.localtime(email.scheduled_at, zone)
        day = grouped.setdefault(at.date(), TimelineDay(day=at.date(),
                                                        label=_day_label(at.date(), today)))
        day.sends.append(ScheduledSend(email=email, at=at, audience=audience[email.pk]))
    return Timeline(days=list(grouped.values()), start=start, end=end,
                    later=elsewhere["later"], time_unknown=elsewhere["unknown"], more=more)


# --- Recent sends ---------------------------------------------------------------------

# What a card of five campaigns never needs: the big JSON columns of the report cache.
_HEAVY = ("aggregates", "link_report", "devices", "upstream_percents", "read_marks",
          "campaign__raw")


def recent_sends(*, workspace: Workspace, limit: int = RECENT_SENDS) -> list[CampaignReport]:
    """The latest sent campaigns in the report cache, newest first, with their counts
    (the rates are the row's own properties, as Constant Contact defines them)."""
    return list(CampaignReport.objects.filter(workspace=workspace, last_sent_at__isnull=False)
                .select_related("campaign").defer(*_HEAVY)
                .order_by("-last_sent_at", "-pk")[:limit])
