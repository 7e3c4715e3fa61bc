"""The notifications ccadmin sends, as data: the preferences page lists them in
this order, and `notify` files each one under its kind.

The floor knows the kinds only by name and words; which people get one is the
calling area's decision.
"""

from django.db import models


class Kind(models.TextChoices):
    REVIEW_REQUESTED = "review_requested", "A campaign waits for my review"
    APPROVED = "approved", "My campaign was approved"
    CHANGES_REQUESTED = "changes_requested", "Changes were requested on my campaign"
    APPROVAL_VOIDED = "approval_voided", "The approval of my campaign was voided"
    READY_TO_SEND = "ready_to_send", "A campaign was approved and can be scheduled"
    AGENT_REQUEST = "agent_request", "An agent asks for something I may approve"


# Who gets each kind, for the preferences page.
AUDIENCE = {
    Kind.REVIEW_REQUESTED: "Sent to members who may approve, when someone asks for review.",
    Kind.APPROVED: "Sent to a campaign's author (and whoever asked for review) when it is "
                   "approved.",
    Kind.CHANGES_REQUESTED: "Sent to a campaign's author with the reviewer's comment.",
    Kind.APPROVAL_VOIDED: "Sent to a campaign's author when a change voids its review or "
                          "approval.",
    Kind.READY_TO_SEND: "Sent to members who may schedule sends, when a campaign is approved.",
    Kind.AGENT_REQUEST: "Sent to members who hold the grant an agent's request needs (a send, "
                        "a delete, a removal, an unsubscribe), when the agent asks.",
}
