"""Telling people about reviews: who hears what when a review is asked for,
decided or voided. The notifications floor (`apps.notifications`) records each
in the app and emails it after the commit; whether a person gets it, and how,
is their own choice there.

- review asked for → the members who may decide on it (four eyes respected);
- approved → the author and whoever asked, then the members who may schedule;
- changes requested → the author and whoever asked, with the reviewer's comment;
- approval voided → the author and whoever asked.
Nobody is told about what they did themselves.
"""

from django.urls import reverse

from apps.campaigns.models import Approval
from apps.campaigns.selectors.approvals import (
    campaign_owners,
    campaign_senders,
    review_request_recipients,
)
from apps.notifications.kinds import Kind
from apps.notifications.services import Message, notify


def _name(user) -> str:
    if user is None:
        return "ccadmin"
    return user.display_name


def _others(people, actor) -> list:
    actor_id = getattr(actor, "pk", None)
    return [p for p in people if p.pk != actor_id]


def _url(approval: Approval, name: str) -> str:
    campaign = approval.campaign
    return reverse(f"campaigns:{name}", kwargs={
        "workspace_slug": campaign.workspace.slug, "campaign_id": campaign.pk})


def review_requested_notify(*, approval: Approval) -> None:
    campaign = approval.campaign
    asker = approval.requested_by
    body = f"{_name(asker)} asked for a review of “{campaign.name}”."
    if approval.request_note:
        body += f"\n\nTheir note: “{approval.request_note}”"
    notify(workspace=campaign.workspace, url=_url(approval, "approval_review"), messages=[
        Message(kind=Kind.REVIEW_REQUESTED, title=f"Review requested: {campaign.name}",
                body=body, recipients=review_request_recipients(campaign=campaign,
                                                                approval=approval)),
    ])


def review_decided_notify(*, approval: Approval) -> None:
    campaign = approval.campaign
    decider = approval.decided_by
    owners = _others(campaign_owners(campaign=campaign, approval=approval), decider)
    comment = f"\n\nTheir comment: “{approval.comment}”" if approval.comment else ""
    if approval.decision == Approval.Decision.APPROVED:
        messages = [
            Message(kind=Kind.APPROVED, title=f"Approved: {campaign.name}", recipients=owners,
                    body=f"{_name(decider)} approved “{campaign.name}”. A member who may "
                         f"send can now schedule it; any change voids the approval.{comment}"),
            Message(kind=Kind.READY_TO_SEND, title=f"Ready to schedule: {campaign.name}",
                    recipients=_others(campaign_senders(campaign=campaign), decider),
                    body=f"{_name(decider)} approved “{campaign.name}”, so it can be "
                         f"scheduled now.{comment}"),
        ]
    elif approval.decision == Approval.Decision.REJECTED:
        messages = [
            Message(kind=Kind.CHANGES_REQUESTED, title=f"Changes requested: {campaign.name}",
                    recipients=owners,
                    body=f"{_name(decider)} asked for changes to “{campaign.name}”.{comment}"
                         "\n\nEdit the campaign, then ask for review again."),
        ]
    else:
        return
    notify(workspace=campaign.workspace, url=_url(approval, "campaign_detail"),
           messages=messages)


def approval_voided_notify(*, approval: Approval, changes: list[dict], actor=None) -> None:
    """`actor` is whoever's action found the change (an edit here, a sync, a
    schedule): not necessarily who made it, so the words don't blame anyone."""
    campaign = approval.campaign
    what = "approval" if approval.decided_at else "review request"
    fields = ", ".join(c.get("label") or c["field"] for c in changes).lower()
    because = f" because what would go out changed ({fields})" if fields else ""
    notify(workspace=campaign.workspace, url=_url(approval, "campaign_detail"), messages=[
        Message(kind=Kind.APPROVAL_VOIDED, title=f"Approval voided: {campaign.name}",
                recipients=_others(campaign_owners(campaign=campaign, approval=approval), actor),
                body=f"The {what} of “{campaign.name}” was voided{because}. It needs a new "
                     "review before it can be scheduled."),
    ])
