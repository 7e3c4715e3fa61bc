"""The aggregates a campaign's report pages draw, computed from its cached events.

Run after each refresh of the campaign (never on a page view), so a page reads
one row whatever the campaign's size. Time buckets count from the send: hours
1..48 and then days 1..N, the same for every reader whatever their time zone.

Per bucket there are two numbers for opens and for clicks: the contacts who
opened (clicked) for the *first* time in it — these add up to the unique
counts Constant Contact reports (`em_opens`, `em_clicks`) — and every open
(click) in it, which add up to `em_opens_all` (`em_clicks_all`).
"""

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from apps.mirror.models import TrackingEvent
from apps.reporting.models import CampaignReport

Kind = TrackingEvent.Kind

# Hour by hour for the first two days after the send, when most opens and clicks
# come in; day by day after that.
HOURLY_FOR = 48
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Rows streamed from the database per round trip while aggregating.
_CHUNK = 5000


def _bucket(moment: datetime, start: datetime, size: timedelta) -> int:
    return max(0, int((moment - start) / size))


def report_aggregates_compute(*, report: CampaignReport, now: datetime | None = None) -> dict:
    """Every aggregate of the report's cached events, as stored in `aggregates`."""
    now = now or timezone.now()
    events = (
        TrackingEvent.objects.filter(workspace_id=report.workspace_id,
                                     activity_id=report.activity_id)
        .order_by("occurred_at", "pk")
        .values_list("kind", "contact_cc_id", "occurred_at", "url_id", "link_url", "bounce_code",
                     "opt_out_reason")
    )
    start = report.last_sent_at
    contacts: dict[str, set] = defaultdict(set)
    counts: Counter = Counter()
    first_open: dict[str, datetime] = {}
    first_click: dict[str, datetime] = {}
    opens_at: list[datetime] = []
    clicks_at: list[datetime] = []
    bounce_code: dict[str, str] = {}
    optout_reason: dict[str, str] = {}
    links: dict[str, dict] = {}
    last_event = None
    for kind, contact, at, url_id, link_url, code, reason in events.iterator(chunk_size=_CHUNK):
        counts[kind] += 1
        contacts[kind].add(contact)
        last_event = at
        if kind == Kind.SEND:
            # The first send is when the email went out; the summaries' date may be a
            # later re-send's, or missing until summaries are read.
            start = at if start is None or at < start else start
        elif kind == Kind.OPEN:
            first_open.setdefault(contact, at)
            opens_at.append(at)
        elif kind == Kind.CLICK:
            first_click.setdefault(contact, at)
            clicks_at.append(at)
            link = links.setdefault(url_id or link_url, {"url": link_url, "contacts": set(),
                                                         "clicks": 0})
            link["url"] = link["url"] or link_url
            link["contacts"].add(contact)
            link["clicks"] += 1
        elif kind == Kind.BOUNCE:
            bounce_code[contact] = code  # a contact's latest bounce says why
        elif kind == Kind.OPTOUT:
            optout_reason[contact] = reason

    engaged = contacts[Kind.OPEN] | contacts[Kind.CLICK]
    aggregates = {
        "computed_at": now.isoformat(),
        "start": start.isoformat() if start else None,
        "totals": {kind: {"contacts": len(contacts[kind]), "events": counts[kind]}
                   for kind in Kind.values},
        "engaged": len(engaged),
        "not_engaged": len(contacts[Kind.SEND] - engaged - contacts[Kind.BOUNCE]),
        "hours": [], "days": [],
        "bounces": sorted(Counter(bounce_code.values()).items()),
        "optout_reasons": sorted(Counter(optout_reason.values()).items(),
                                 key=lambda item: (-item[1], item[0])),
        "links": sorted(
            ([key, link["url"], len(link["contacts"]), link["clicks"]]
             for key, link in links.items()),
            key=lambda row: (-row[2], row[1]),
        ),
    }
    if start is not None and last_event is not None:
        aggregates["hours"] = _series(start, HOUR, HOURLY_FOR, first_open, opens_at, first_click,
                                      clicks_at)
        # Up to the last day with any event, not to today: a 90-day-old campaign's
        # chart needn't end in weeks of zeros.
        aggregates["days"] = _series(start, DAY, _bucket(last_event, start, DAY) + 1, first_open,
                                     opens_at, first_click, clicks_at)
    return aggregates


def _series(start: datetime, size: timedelta, buckets: int, first_open: dict, opens_at: list,
            first_click: dict, clicks_at: list) -> list[list[int]]:
    """[[first opens, opens, first clicks, clicks], ...] per bucket from the send;
    anything past the last bucket goes into it (hours: only the first 48)."""
    rows = [[0, 0, 0, 0] for _ in range(max(buckets, 0))]
    if not rows:
        return rows
    limit = len(rows) - 1
    hourly = size == HOUR

    def add(moments, column):
        for at in moments:
            index = _bucket(at, start, size)
            if index > limit:
                if hourly:
                    continue  # the hourly chart covers the first two days only
                index = limit
            rows[index][column] += 1

    add(first_open.values(), 0)
    add(opens_at, 1)
    add(first_click.values(), 2)
    add(clicks_at, 3)
    return rows


def report_aggregates_refresh(*, report: CampaignReport) -> CampaignReport:
    report.aggregates = report_aggregates_compute(report=report)
    report.save(update_fields=["aggregates"])
    return report
