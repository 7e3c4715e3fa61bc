"""Reads of the report cache for the report pages. Nothing here calls Constant
Contact, and every read costs the same few queries however many events are
cached: pages read the per-campaign `CampaignReport` rows (counts and
precomputed aggregates); only the engaged / not-engaged contact lists touch
the events, three bounded queries each (`engaged_contacts`).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, Max, Min, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.models import Campaign, CampaignStatus, Contact, TrackingEvent
from apps.reporting import rates
from apps.reporting.models import CampaignReport

Kind = TrackingEvent.Kind

# A campaign sent to fewer contacts than this is not ranked best or worst: one
# open out of three sends is no 33 % open rate anyone should act on.
RANK_MIN_SENDS = 10
RANKED = 3  # best and worst campaigns shown
# The engaged / not-engaged lists show this many contacts each (a page, not an export).
CONTACTS_SHOWN = 100
COMPARE_MIN, COMPARE_MAX = 2, 5
# What a list of many campaigns never needs: the big JSON columns (a campaign's
# aggregates grow with its age and events; parsing 500 of them is most of a page).
_HEAVY = ("aggregates", "link_report", "devices", "upstream_percents", "read_marks")


@dataclass(frozen=True)
class Totals:
    campaigns: int
    sends: int
    opens: int
    clicks: int
    bounces: int
    optouts: int

    @property
    def delivered(self) -> int:
        return rates.delivered(self.sends, self.bounces)

    @property
    def rates(self) -> dict:
        return rates.all_rates(sends=self.sends, opens=self.opens, clicks=self.clicks,
                               bounces=self.bounces, optouts=self.optouts)


def totals_of(reports: list[CampaignReport]) -> Totals:
    return Totals(
        campaigns=len(reports),
        sends=sum(r.sends for r in reports), opens=sum(r.opens for r in reports),
        clicks=sum(r.clicks for r in reports), bounces=sum(r.bounces for r in reports),
        optouts=sum(r.optouts for r in reports),
    )


# --- Freshness ------------------------------------------------------------------------

@dataclass(frozen=True)
class CacheFreshness:
    read_at: datetime | None  # the oldest of the shown reports' last reads
    newest_at: datetime | None
    as_of: datetime | None  # Constant Contact's own last_refresh_time, when known
    never: bool  # nothing shown has been read yet


def freshness_of(reports: list[CampaignReport]) -> CacheFreshness:
    reads = [r.events_read_at or r.summary_read_at for r in reports
             if r.events_read_at or r.summary_read_at]
    as_of = [r.stats_as_of for r in reports if r.stats_as_of]
    oldest, newest = (min(reads), max(reads)) if reads else (None, None)
    if newest and newest - oldest < timedelta(minutes=1):
        newest = oldest  # read in the same run: one time says it
    return CacheFreshness(read_at=oldest, newest_at=newest,
                          as_of=min(as_of) if as_of else None, never=not reads)


# --- Overview -------------------------------------------------------------------------

@dataclass
class Overview:
    start: date
    end: date
    reports: list[CampaignReport]
    totals: Totals
    best: list[CampaignReport] = field(default_factory=list)
    worst: list[CampaignReport] = field(default_factory=list)
    trend_unit: str = "week"  # "day", "week" or "month"
    trend: list[tuple[date, Totals]] = field(default_factory=list)
    freshness: CacheFreshness | None = None
    sent_ever: bool = False  # any campaign in the cache at all, whatever the period


def _day_start(day: date, zone) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), zone)


def reports_overview(*, workspace: Workspace, start: date, end: date, zone) -> Overview:
    """The period's sent campaigns (by send date in the member's zone, `end`
    included), their summed counts, a trend and the best and worst by open rate.
    Two queries."""
    reports = list(
        CampaignReport.objects.filter(
            workspace=workspace, last_sent_at__gte=_day_start(start, zone),
            last_sent_at__lt=_day_start(end + timedelta(days=1), zone),
        ).select_related("campaign").defer(*_HEAVY, "campaign__raw").order_by("-last_sent_at", "pk")
    )
    overview = Overview(start=start, end=end, reports=reports, totals=totals_of(reports),
                        freshness=freshness_of(reports))
    if not reports:
        overview.sent_ever = CampaignReport.objects.filter(workspace=workspace).exists()
        return overview
    ranked = sorted((r for r in reports if r.sends >= RANK_MIN_SENDS and r.open_rate is not None),
                    key=lambda r: (-r.open_rate, -(r.click_rate or 0), r.campaign.name))
    overview.best = ranked[:RANKED]
    overview.worst = list(reversed(ranked[-RANKED:])) if len(ranked) > RANKED else []
    overview.trend_unit, overview.trend = _trend(reports, start, end, zone)
    return overview


def _trend(reports, start: date, end: date, zone) -> tuple[str, list]:
    """The period's sends and rates by day, week or month of the send, whichever
    gives a readable number of points."""
    days = (end - start).days + 1
    unit = "day" if days <= 31 else "week" if days <= 26 * 7 else "month"

    def bucket(day: date) -> date:
        if unit == "day":
            return day
        if unit == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    keys: list[date] = []
    cursor = bucket(start)
    while cursor <= end:
        keys.append(cursor)
        if unit == "day":
            cursor += timedelta(days=1)
        elif unit == "week":
            cursor += timedelta(days=7)
        else:
            cursor = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
    grouped: dict[date, list] = {key: [] for key in keys}
    for report in reports:
        grouped.setdefault(bucket(timezone.localtime(report.last_sent_at, zone).date()),
                           []).append(report)
    return unit, [(key, totals_of(grouped[key])) for key in sorted(grouped)]


# --- One campaign ---------------------------------------------------------------------

def campaign_for_report(*, workspace: Workspace, campaign_id: int) -> Campaign:
    """The workspace's campaign, or 404 (another workspace's is the same answer)."""
    campaign = (Campaign.objects.filter(workspace=workspace, pk=campaign_id)
                .select_related("email").first())
    if campaign is None:
        raise Http404("No such campaign")
    return campaign


def report_of(*, campaign: Campaign) -> CampaignReport | None:
    return CampaignReport.objects.filter(campaign=campaign).first()


def campaign_was_sent(campaign: Campaign) -> bool:
    return campaign.status == CampaignStatus.DONE or (
        campaign.status == CampaignStatus.REMOVED and bool(campaign.primary_activity_id))


def reports_in_workspace(*, workspace: Workspace) -> int:
    return CampaignReport.objects.filter(workspace=workspace).count()


@dataclass(frozen=True)
class ContactRow:
    contact: Contact | None
    contact_cc_id: str
    what: str  # "Opened and clicked", "Opened", "Not opened"


def engaged_contacts(*, report: CampaignReport, engaged: bool,
                     limit: int = CONTACTS_SHOWN) -> tuple[list[ContactRow], int]:
    """Who opened or clicked (engaged) or was sent it, didn't bounce and did
    neither; the first `limit` by name (then those the mirror has no contact for,
    by id), and how many there are in all. Contact-level data: the view shows it
    only to members who may read contacts too.

    Three queries whatever the campaign's size: who is in the list stays a
    subquery in the database (as a list of ids, a campaign sent to 250,000
    contacts would pass SQLite's limit on query parameters), and only the rows
    shown come back to Python. Each kind of event is read with `kind = ...`, a
    UNION joining opens and clicks: with `kind IN (...)` SQLite walks every event
    of the workspace by contact to save a sort (seconds at a million events).
    Who did not engage is an EXCEPT (sent, minus opened, clicked, bounced), not a
    NOT EXISTS per send: on PostgreSQL, before the new events are analysed, the
    planner ran that anti-join once for every contact (12 s for 400 contacts)."""
    events = TrackingEvent.objects.filter(workspace_id=report.workspace_id,
                                          activity_id=report.activity_id).order_by()

    def did(kinds: tuple[str, ...], contact: str) -> Exists:
        return Exists(events.filter(kind__in=kinds, contact_cc_id=OuterRef(contact)))

    def who(kind: str) -> QuerySet:
        return events.filter(kind=kind).values("contact_cc_id")

    mirrored = Contact.objects.filter(workspace_id=report.workspace_id)
    if engaged:
        ids = who(Kind.OPEN).union(who(Kind.CLICK))
        # Ids the mirror has no contact for (not synced yet, or deleted) come after
        # the named ones. They are asked for even when the named ones fill the page,
        # so the page's query count never depends on the data.
        unknown = [events.filter(kind=kind)
                   .exclude(Exists(mirrored.filter(cc_id=OuterRef("contact_cc_id"))))
                   .annotate(opened=did((Kind.OPEN,), "contact_cc_id"),
                             clicked=did((Kind.CLICK,), "contact_cc_id"))
                   .values("contact_cc_id", "opened", "clicked")
                   for kind in (Kind.OPEN, Kind.CLICK)]
        unknown_ids = unknown[0].union(*unknown[1:])
    else:
        engaged_kinds = [who(kind) for kind in (Kind.OPEN, Kind.CLICK, Kind.BOUNCE)]
        ids = who(Kind.SEND).difference(*engaged_kinds)
        unknown_ids = who(Kind.SEND).difference(*engaged_kinds, mirrored.values("cc_id"))
    total = ids.count()

    known = mirrored.filter(cc_id__in=ids).order_by("last_name", "first_name", "email", "cc_id")
    if engaged:
        known = known.annotate(opened=did((Kind.OPEN,), "cc_id"),
                               clicked=did((Kind.CLICK,), "cc_id"))

    rows = [ContactRow(contact=contact, contact_cc_id=contact.cc_id,
                       what=_what(engaged, getattr(contact, "opened", False),
                                  getattr(contact, "clicked", False)))
            for contact in known[:limit]]
    rows += [ContactRow(contact=None, contact_cc_id=row["contact_cc_id"],
                        what=_what(engaged, row.get("opened"), row.get("clicked")))
             for row in unknown_ids.order_by("contact_cc_id")[:limit]]
    return rows[:limit], total


def _what(engaged: bool, opened: bool, clicked: bool) -> str:
    if not engaged:
        return "Not opened"
    if clicked:
        return "Opened and clicked" if opened else "Clicked"
    return "Opened"


# --- Comparison -----------------------------------------------------------------------

def comparable_reports(*, workspace: Workspace, limit: int = 200) -> list[CampaignReport]:
    """Sent campaigns to choose from, newest first."""
    return list(CampaignReport.objects.filter(workspace=workspace).select_related("campaign")
                .defer(*_HEAVY, "campaign__raw").order_by("-last_sent_at", "pk")[:limit])


def reports_for_comparison(*, workspace: Workspace,
                           campaign_ids: list[int]) -> list[CampaignReport]:
    """The chosen campaigns' reports, in the order chosen; unknown ids are left out
    (the form has already said which)."""
    found = {r.campaign_id: r for r in CampaignReport.objects.filter(
        workspace=workspace, campaign_id__in=campaign_ids).select_related("campaign")}
    return [found[i] for i in campaign_ids if i in found]


def sent_period_bounds(*, workspace: Workspace) -> tuple[datetime | None, datetime | None]:
    found = CampaignReport.objects.filter(workspace=workspace).aggregate(
        first=Min("last_sent_at"), last=Max("last_sent_at"))
    return found["first"], found["last"]
