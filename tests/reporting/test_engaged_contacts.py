"""The campaign report's "who engaged" lists (review finding 11): the contacts
stay in the database, so a big campaign costs the same few small queries as a
small one, and the page shows the same rows as before: the first 100 by name
(contacts the mirror doesn't have after, by id) and how many there are in all."""

from datetime import datetime, timedelta, timezone as dt_timezone
import random

from django.db import connection
from django.test.utils import CaptureQueriesContext
import pytest

from apps.mirror.models import Contact, TrackingEvent
from apps.reporting.models import CampaignReport
from apps.reporting.selectors.reports import engaged_contacts
from tests.factories import CampaignFactory, ContactFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

ACTIVITY = "activity-1"
SENT_AT = datetime(2026, 5, 1, 9, 0, tzinfo=dt_timezone.utc)


def _campaign(recipients: int, *, unknown: int = 0, seed: int = 7):
    """A sent campaign: `recipients` mirrored contacts (with a few shared names,
    so the order needs its tie-breaks) plus `unknown` recipients the mirror has
    no contact for; opens, clicks (some without an open), bounces."""
    workspace = WorkspaceFactory()
    campaign = CampaignFactory(workspace=workspace)
    report = CampaignReport.objects.create(workspace=workspace, campaign=campaign,
                                           activity_id=ACTIVITY, last_sent_at=SENT_AT)
    rng = random.Random(seed)
    names = ["Ng", "Adams", "Zhou", "adams", "Émile", ""]
    ids = [ContactFactory(workspace=workspace, cc_id=f"c-{n:05d}",
                          last_name=rng.choice(names), first_name=rng.choice(["Ann", "Bo", ""]),
                          email=f"{rng.choice('abc')}{n}@example.com").cc_id
           for n in range(recipients)]
    ids += [f"gone-{n:05d}" for n in range(unknown)]
    events = []
    for n, cc_id in enumerate(ids):
        at = SENT_AT + timedelta(minutes=n)
        events.append(TrackingEvent(workspace=workspace, activity_id=ACTIVITY, kind="send",
                                    contact_cc_id=cc_id, occurred_at=at))
        roll = rng.random()
        if roll < 0.05:
            events.append(TrackingEvent(workspace=workspace, activity_id=ACTIVITY,
                                        kind="bounce", contact_cc_id=cc_id, occurred_at=at))
            continue
        if roll < 0.45:  # opened, twice for some
            for again in range(1 + (roll < 0.15)):
                events.append(TrackingEvent(workspace=workspace, activity_id=ACTIVITY,
                                            kind="open", contact_cc_id=cc_id,
                                            occurred_at=at + timedelta(hours=1 + again)))
        if roll < 0.25 or 0.9 < roll < 0.93:  # clicked (the last few without an open)
            events.append(TrackingEvent(workspace=workspace, activity_id=ACTIVITY,
                                        kind="click", contact_cc_id=cc_id, url_id="1",
                                        occurred_at=at + timedelta(hours=3)))
    # Another campaign's events never count.
    events.append(TrackingEvent(workspace=workspace, activity_id="other", kind="open",
                                contact_cc_id=ids[0], occurred_at=SENT_AT))
    TrackingEvent.objects.bulk_create(events)
    return report


def _as_before(report: CampaignReport, engaged: bool, limit: int):
    """What the page showed before the fix, worked out in Python from every event."""
    events = TrackingEvent.objects.filter(workspace_id=report.workspace_id,
                                          activity_id=report.activity_id)

    def of(kind):
        return set(events.filter(kind=kind).values_list("contact_cc_id", flat=True))

    opened, clicked = of("open"), of("click")
    ids = opened | clicked if engaged else of("send") - opened - clicked - of("bounce")
    contacts = {c.cc_id: c for c in Contact.objects.filter(workspace_id=report.workspace_id)}

    def key(cc_id):
        c = contacts.get(cc_id)
        return (c is None, (c.last_name, c.first_name, c.email, cc_id) if c else ("", "", "", cc_id))

    rows = []
    for cc_id in sorted(ids, key=key)[:limit]:
        if not engaged:
            what = "Not opened"
        elif cc_id in clicked:
            what = "Opened and clicked" if cc_id in opened else "Clicked"
        else:
            what = "Opened"
        rows.append((cc_id, contacts[cc_id].pk if cc_id in contacts else None, what))
    return rows, len(ids)


@pytest.mark.parametrize("engaged", [True, False])
@pytest.mark.parametrize("recipients,unknown,limit", [(300, 12, 100), (40, 25, 100),
                                                      (60, 30, 50)])
def test_the_lists_show_what_they_showed_before(engaged, recipients, unknown, limit):
    report = _campaign(recipients, unknown=unknown)
    rows, total = engaged_contacts(report=report, engaged=engaged, limit=limit)
    expected_rows, expected_total = _as_before(report, engaged, limit)
    assert total == expected_total
    assert [(r.contact_cc_id, r.contact.pk if r.contact else None, r.what)
            for r in rows] == expected_rows


def test_a_big_campaign_costs_the_same_small_queries_as_a_small_one():
    """Before the fix every id went into the query as a parameter: past SQLite's
    limit (about 250,000) the page answered 500."""
    sizes = {}
    for recipients in (30, 600):
        report = _campaign(recipients)
        with CaptureQueriesContext(connection) as queries:
            engaged_contacts(report=report, engaged=True)
            engaged_contacts(report=report, engaged=False)
        sizes[recipients] = [len(q["sql"]) for q in queries.captured_queries]
        # No query carries the contacts' ids: each is a few hundred characters.
        assert max(sizes[recipients]) < 2500, max(sizes[recipients])
    assert len(sizes[30]) == len(sizes[600]) == 6
