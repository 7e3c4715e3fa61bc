"""A workspace as a team has it after a few weeks: connected and synced, a few
thousand contacts on lists, campaigns in review, scheduled and sent with their
reports, a bulk import running, and the audit log of it all.

`populate(world, scale=n)` makes n times the rows of everything that can grow,
so a test can show the overview's query count does not grow with them.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from apps.audit.services import audit_event_record
from apps.bulk.models import BulkJob
from apps.constantcontact.models import Connection
from apps.mirror.models import CampaignStatus, Contact, EmailStatus, ListMembership, SyncRun
from apps.reporting.models import CampaignReport
from tests.factories import (
    ApprovalFactory,
    CampaignFactory,
    ContactListFactory,
    EmailActivityFactory,
    SyncRunFactory,
)

SENT = ("Autumn newsletter", "Black Friday early access", "Webinar invitation",
        "Customer survey", "Product update: October")
SCHEDULED = ("Spring sale", "Weekly digest", "VIP preview", "Holiday opening hours")


@dataclass
class Populated:
    contacts: int = 0
    lists: list = field(default_factory=list)
    in_review: list = field(default_factory=list)
    scheduled: list = field(default_factory=list)
    sent: list = field(default_factory=list)
    jobs: list = field(default_factory=list)


def connect(workspace, *, now=None, **fields) -> Connection:
    now = now or timezone.now()
    values = dict(
        status=Connection.Status.CONNECTED, account_name="Acme Outdoor Co.",
        account_email="marketing@acme.example",
        granted_scopes="contact_data campaign_data offline_access account_read account_update",
        refresh_token_ciphertext="stored-encrypted", access_token_ciphertext="stored-encrypted",
        access_expires_at=now + timedelta(hours=20), connected_at=now - timedelta(days=30),
        last_refreshed_at=now - timedelta(hours=4))
    values.update(fields)
    return Connection.objects.update_or_create(workspace=workspace, defaults=values)[0]


def _synced(workspace, scope, *, minutes_ago: int, now) -> None:
    finished = now - timedelta(minutes=minutes_ago)
    SyncRunFactory(workspace=workspace, scope=scope, kind=SyncRun.Kind.INCREMENTAL,
                   status=SyncRun.Status.SUCCEEDED, created_at=finished - timedelta(seconds=40),
                   started_at=finished - timedelta(seconds=38), finished_at=finished)


def _numbered(names: tuple[str, ...], i: int) -> str:
    """The names in turn; from the second round on, numbered ("Spring sale 2")."""
    name = names[i % len(names)]
    return f"{name} {i // len(names) + 1}" if i >= len(names) else name


def populate(world, *, scale: int = 1, contacts: int = 1234) -> Populated:
    ws, now = world.workspace, timezone.now()
    made = Populated()
    connect(ws, now=now)
    for scope, minutes in ((SyncRun.Scope.CONTACTS, 4), (SyncRun.Scope.CAMPAIGNS, 9),
                           (SyncRun.Scope.SEGMENTS, 13), (SyncRun.Scope.REPORTS, 27)):
        for _ in range(scale):
            _synced(ws, scope, minutes_ago=minutes, now=now)

    made.lists = [ContactListFactory(workspace=ws, name=name, membership_count=0)
                  for name in ("Newsletter", "VIP customers", "Beta testers")[:3]]
    made.lists += [ContactListFactory(workspace=ws, name=f"Event {i}")
                   for i in range(3 * (scale - 1))]
    total = contacts * scale
    statuses = [EmailStatus.EXPLICIT] * 7 + [EmailStatus.IMPLICIT, EmailStatus.UNSUBSCRIBED,
                                              EmailStatus.PENDING]
    Contact.objects.bulk_create(
        Contact(workspace=ws, cc_id=f"pop-{scale}-{i}", email=f"person{i}@example.com",
                email_status=statuses[i % len(statuses)], first_name="Pat", last_name=f"N{i}",
                search_text=f"pat n{i} person{i}@example.com")
        for i in range(total))
    made.contacts = total
    first = Contact.objects.filter(workspace=ws).order_by("pk")[:50]
    ListMembership.objects.bulk_create(
        ListMembership(contact=c, contact_list=made.lists[0]) for c in first)

    newsletter = made.lists[0]
    for i in range(2 * scale):
        campaign = CampaignFactory(workspace=ws, author=world.editor,
                                   name=f"Summer launch {i + 1}" if i else "Summer launch")
        EmailActivityFactory(campaign=campaign, subject="Summer is here",
                             contact_list_ids=[newsletter.cc_id])
        ApprovalFactory(campaign=campaign, requested_by=world.editor,
                        requested_at=now - timedelta(hours=3 + i),
                        request_note="Ready for a look: new hero image and prices.")
        made.in_review.append(campaign)

    for i in range(len(SCHEDULED) * scale):
        name = _numbered(SCHEDULED, i)
        campaign = CampaignFactory(workspace=ws, name=name, status=CampaignStatus.SCHEDULED,
                                   author=world.editor)
        EmailActivityFactory(campaign=campaign,
                             contact_list_ids=[newsletter.cc_id, made.lists[1].cc_id],
                             scheduled_at=now + timedelta(days=(i % 5) * 2, hours=2 + i % 3))
        made.scheduled.append(campaign)

    for i in range(len(SENT) * scale):
        name = _numbered(SENT, i)
        sent_at = now - timedelta(days=2 + 4 * i)
        campaign = CampaignFactory(workspace=ws, name=name, status=CampaignStatus.DONE,
                                   author=world.editor)
        EmailActivityFactory(campaign=campaign, sent_at=sent_at)
        sends = 1180 - 37 * (i % 5)
        CampaignReport.objects.create(
            workspace=ws, campaign=campaign, last_sent_at=sent_at, sends=sends,
            opens=sends * (28 + i % 7) // 100, clicks=sends * (4 + i % 3) // 100,
            bounces=9 + i % 4, optouts=2 + i % 3, summary_read_at=now - timedelta(minutes=27))
        made.sent.append(campaign)

    for i in range(scale):
        made.jobs.append(BulkJob.objects.create(
            workspace=ws, kind=BulkJob.Kind.IMPORT, state=BulkJob.State.RUNNING,
            created_by=world.editor, title="Import of trade-show-leads.csv into Newsletter",
            total_items=2400, processed_items=1500, phase="Importing", started_at=now))

    for campaign in made.scheduled[:2]:
        audit_event_record(action="campaign.schedule_requested", actor=world.approver,
                           workspace=ws, target=campaign.audit_target)
    audit_event_record(action="campaign.approved", actor=world.approver, workspace=ws,
                       target=made.scheduled[0].audit_target)
    audit_event_record(action="campaign.review_requested", actor=world.editor, workspace=ws,
                       target=made.in_review[0].audit_target)
    audit_event_record(action="bulk.job_started", actor=world.editor, workspace=ws,
                       target="Import of trade-show-leads.csv into Newsletter")
    for _ in range(3 * scale):  # calls that stay in the audit log's detail
        audit_event_record(action="cc.contacts.get", actor=world.viewer, workspace=ws,
                           target="GET /contacts/abc")
    return made
