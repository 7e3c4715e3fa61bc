"""A campaign's state in one word, for the list and the campaign's header.

It joins what Constant Contact says (draft, scheduled, sent...) with what only
ccadmin knows (the newest review's decision): a draft is "In review" while a
review waits, "Approved" once approved, "Changes requested" after a reviewer
asked for changes, and plain "Draft" otherwise (never reviewed, or the review
was voided or withdrawn). Waiting states are amber, finished ones green, and
the words are always there: colour is never the only signal.
"""

from dataclasses import dataclass

from apps.campaigns.models import Approval
from apps.mirror.models import CampaignStatus


@dataclass(frozen=True)
class Badge:
    key: str
    label: str
    # The CSS modifier: "" (neutral), "pending" (amber), "success" (green), "failure".
    tone: str
    # What the badge means, for its title and for screen readers.
    hint: str


DRAFT = Badge("draft", "Draft", "", "Not yet reviewed, or changed since its last review.")
IN_REVIEW = Badge("in_review", "In review", "pending",
                  "Waiting for a member who may approve to review it.")
CHANGES_REQUESTED = Badge("changes_requested", "Changes requested", "pending",
                          "A reviewer asked for changes; the author edits and asks again.")
APPROVED = Badge("approved", "Approved", "success",
                 "Approved: a member who may send can schedule it.")
SCHEDULED = Badge("scheduled", "Scheduled", "pending",
                  "Scheduled in Constant Contact; waiting for its send time.")
SENDING = Badge("sending", "Sending", "pending", "Constant Contact is sending it now.")
SENT = Badge("sent", "Sent", "success", "Sent.")
ERROR = Badge("error", "Error", "failure", "Constant Contact reports an error for it.")
DELETED = Badge("deleted", "Deleted", "failure", "Deleted in Constant Contact.")

BY_STATUS = {
    CampaignStatus.SCHEDULED: SCHEDULED,
    CampaignStatus.EXECUTING: SENDING,
    CampaignStatus.DONE: SENT,
    CampaignStatus.ERROR: ERROR,
    CampaignStatus.REMOVED: DELETED,
}
BY_DECISION = {
    Approval.Decision.PENDING: IN_REVIEW,
    Approval.Decision.APPROVED: APPROVED,
    Approval.Decision.REJECTED: CHANGES_REQUESTED,
}
# The badges the list can filter by, in the order a campaign moves through them.
FILTERABLE = (DRAFT, IN_REVIEW, CHANGES_REQUESTED, APPROVED, SCHEDULED, SENT)


def campaign_badge(*, status: str, decision: str | None) -> Badge:
    """The badge for a campaign in Constant Contact `status` whose newest review
    has `decision` (None: never reviewed)."""
    if status in BY_STATUS:
        return BY_STATUS[status]
    return BY_DECISION.get(decision, DRAFT)
