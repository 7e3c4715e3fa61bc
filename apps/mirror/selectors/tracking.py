"""Reads of the cached tracking events that more than one area needs: what each
bounce code means, and one contact's email activity (the contact page shows it;
the contacts area may not import reporting, so the read lives on this floor).

Nothing here calls Constant Contact: it reads what the reports refresh cached.
"""

from dataclasses import dataclass, field
from datetime import datetime

from apps.accounts.models import Workspace
from apps.mirror.models import Campaign, TrackingEvent

Kind = TrackingEvent.Kind

# Constant Contact's bounce codes, as the spec's BouncesTrackingActivity describes
# each one. Hard bounces (the address will not take mail) and soft ones (it may
# later, or it did: a vacation reply means the message was delivered) are
# ccadmin's grouping, explained in docs/reporting.md.
BOUNCE_REASONS = {
    "B": "Non-existent address",
    "D": "Undeliverable",
    "F": "Mailbox full",
    "S": "Suspended",
    "V": "Vacation or auto-reply (delivered)",
    "X": "Other",
    "Z": "Blocked",
}
HARD_BOUNCES = frozenset({"B", "D", "S"})

# The contact page lists this many of a contact's most recent events: years of
# weekly campaigns fit, and the page costs the same at any history's length.
CONTACT_EVENTS_SHOWN = 500


def bounce_reason(code: str) -> str:
    return BOUNCE_REASONS.get(code, f"Code {code}" if code else "Unknown")


def bounce_is_hard(code: str) -> bool:
    return code in HARD_BOUNCES


@dataclass
class CampaignActivityOfContact:
    """What one contact did with one campaign's email."""

    activity_id: str
    campaign: Campaign | None  # None: not a mirrored campaign's primary email
    sent_at: datetime | None = None
    opens: int = 0
    first_open_at: datetime | None = None
    clicks: int = 0
    links: list[str] = field(default_factory=list)
    bounce_code: str = ""
    bounced_at: datetime | None = None
    opted_out_at: datetime | None = None
    opt_out_reason: str = ""
    latest_at: datetime | None = None

    @property
    def bounce_reason(self) -> str:
        return bounce_reason(self.bounce_code) if self.bounced_at else ""


@dataclass(frozen=True)
class ContactActivity:
    campaigns: list[CampaignActivityOfContact]
    sent: int
    opened: int
    clicked: int
    bounced: int
    opted_out: bool
    truncated: bool  # older events exist beyond CONTACT_EVENTS_SHOWN

    @property
    def empty(self) -> bool:
        return not self.campaigns


def contact_activity(*, workspace: Workspace | int, contact_cc_id: str,
                     limit: int = CONTACT_EVENTS_SHOWN) -> ContactActivity:
    """The contact's cached sends, opens, clicks, bounces and opt-outs, one row
    per campaign, newest first. Two queries, whatever the history's length."""
    events = list(
        TrackingEvent.objects.filter(workspace=workspace, contact_cc_id=contact_cc_id)
        .order_by("-occurred_at", "-pk")
        .only("activity_id", "kind", "occurred_at", "link_url", "bounce_code", "opt_out_reason")
        [:limit + 1]
    )
    truncated = len(events) > limit
    events = events[:limit]
    campaigns = {
        c.primary_activity_id: c
        for c in Campaign.objects.filter(
            workspace=workspace, primary_activity_id__in={e.activity_id for e in events}
        )
    } if events else {}
    rows: dict[str, CampaignActivityOfContact] = {}
    for event in reversed(events):  # oldest first: "first open" is the first one seen
        row = rows.get(event.activity_id)
        if row is None:
            row = rows[event.activity_id] = CampaignActivityOfContact(
                activity_id=event.activity_id, campaign=campaigns.get(event.activity_id))
        row.latest_at = event.occurred_at
        if event.kind == Kind.SEND:
            row.sent_at = event.occurred_at
        elif event.kind == Kind.OPEN:
            row.opens += 1
            row.first_open_at = row.first_open_at or event.occurred_at
        elif event.kind == Kind.CLICK:
            row.clicks += 1
            if event.link_url and event.link_url not in row.links:
                row.links.append(event.link_url)
        elif event.kind == Kind.BOUNCE:
            row.bounce_code, row.bounced_at = event.bounce_code, event.occurred_at
        elif event.kind == Kind.OPTOUT:
            row.opted_out_at, row.opt_out_reason = event.occurred_at, event.opt_out_reason
    ordered = sorted(rows.values(), key=lambda r: r.sent_at or r.latest_at, reverse=True)
    return ContactActivity(
        campaigns=ordered,
        sent=sum(1 for r in ordered if r.sent_at),
        opened=sum(1 for r in ordered if r.opens),
        clicked=sum(1 for r in ordered if r.clicks),
        bounced=sum(1 for r in ordered if r.bounced_at),
        opted_out=any(r.opted_out_at for r in ordered),
        truncated=truncated,
    )
