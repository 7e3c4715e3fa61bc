"""Reading one contact's email activity from Constant Contact now, for the
contact page's "Email activity" panel.

The panel reads the cache the reports refresh fills (campaign by campaign, 500
events a call). For one contact, the contact report (`reports.contact_activity_details`,
100 events a call, every campaign) costs far less than reading whole campaigns,
so a member can bring one contact up to date at once. Its items carry no link,
bounce code or opt-out reason: the next refresh of the campaign fills those in
(apps/mirror/services/tracking.py says how the two sources merge).
"""

from apps.accounts.models import Membership
from apps.constantcontact.gate import Actor, gate_for
from apps.mirror.models import Contact
from apps.mirror.services.tracking import tracking_events_save_for_contact

# The most recent 500 events: a few years of weekly campaigns, five calls at most.
ACTIVITY_PAGES = 5
ACTIVITY_TYPES = "em_sends,em_opens,em_clicks,em_bounces,em_optouts"


def contact_activity_refresh(*, contact: Contact, membership: Membership) -> int:
    """Read the contact's recent activity as `membership` (the gate checks reports
    and contacts read); returns how many events were new to the cache. Raises
    what the gate raises."""
    cc = gate_for(workspace=contact.workspace, actor=Actor.member(membership))
    pages = cc.pages("reports.contact_activity_details", contact_id=contact.cc_id,
                     params={"tracking_activities_list": ACTIVITY_TYPES, "limit": "100"})
    new = 0
    for number, page in enumerate(pages, start=1):
        data = page.data if isinstance(page.data, dict) else {}
        new += tracking_events_save_for_contact(
            workspace=contact.workspace, contact_cc_id=contact.cc_id,
            items=data.get("tracking_activities") or [])
        if number >= ACTIVITY_PAGES:
            break  # pages are read lazily: no sixth call
    return new
