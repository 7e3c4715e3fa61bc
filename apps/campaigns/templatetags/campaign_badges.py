"""`{% campaign_badge campaign %}`: the one way a page shows a campaign's state.

The list annotates each row with its newest review's decision
(`approval_decision`, selectors/campaigns.py), so a page of rows costs no extra
query; a campaign without it (the campaign page) reads it here.
"""

from django import template

from apps.campaigns.badges import campaign_badge as badge_for
from apps.campaigns.selectors.approvals import approval_latest_decision

register = template.Library()

_MISSING = object()


@register.inclusion_tag("campaigns/campaigns/_badge.html")
def campaign_badge(campaign) -> dict:
    decision = getattr(campaign, "approval_decision", _MISSING)
    if decision is _MISSING:
        decision = approval_latest_decision(campaign=campaign)
    return {"badge": badge_for(status=campaign.status, decision=decision)}
