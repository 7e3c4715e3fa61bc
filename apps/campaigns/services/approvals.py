"""Writes for campaign approvals: asking for review, approving or rejecting, and
voiding an approval when what would go out changed.

An approval vouches for one fingerprint (fingerprint.py) of the primary email:
subject, sender, reply-to, preheader, HTML, audience and planned send time.
Asking for review and deciding both read the email from Constant Contact first
(a GET through the gate) so the snapshot is what Constant Contact holds, not a
stale mirror; if the content changed since the review was asked for, the
approval is voided instead of decided, and the approver is told what changed.

At most one approval per campaign is in play (pending or approved): a new
request withdraws the previous one. `approval_void_if_changed` is called by the
campaign editor after every edit or sync of the email, so any change voids.

The gate is never called inside a transaction (a token refresh must commit).
"""

from django.db import transaction
from django.utils import timezone

from apps.accounts.grants import Capability
from apps.accounts.models import Membership
from apps.audit.services import audit_event_record
from apps.campaigns.fingerprint import (
    approval_covers,
    changes_since_approval,
    fingerprint,
    outgoing_snapshot,
)
from apps.campaigns.models import Approval
from apps.campaigns.selectors.approvals import IN_PLAY, approval_current, four_eyes_reason
from apps.campaigns.services.notices import (
    approval_voided_notify,
    review_decided_notify,
    review_requested_notify,
)
from apps.constantcontact.gate import ConstantContact
from apps.mirror.mapping import ACTIVITY_INCLUDE
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity
from apps.mirror.services.campaigns import email_mirror_save


class ApprovalRefused(Exception):
    """The request or decision is not allowed now; `message` says why, for people."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class ApprovalVoided(ApprovalRefused):
    """The content changed since review was asked for: the approval was voided.
    `changes` is the snapshot diff, for the page to show."""

    def __init__(self, message: str, *, approval: Approval, changes: list[dict]):
        self.approval = approval
        self.changes = changes
        super().__init__(message)


def campaign_email_refresh(*, campaign: Campaign, cc: ConstantContact) -> EmailActivity:
    """Read the primary email from Constant Contact and update the mirror (and the
    campaign's status, which follows its primary email's) with it."""
    email = campaign.email
    result = cc.call("emails.activity_get", campaign_activity_id=email.cc_id,
                     params={"include": ACTIVITY_INCLUDE})
    with transaction.atomic():
        email = email_mirror_save(campaign=campaign, data=result.data or {})
        if campaign.status not in (email.status, CampaignStatus.REMOVED):
            campaign.status = email.status
            campaign.save(update_fields=["status"])
    return email


def approval_void(*, approval: Approval, actor, changes: list[dict], reason: str = "changed"
                  ) -> Approval:
    """Void `approval` (it no longer matches what would go out) and audit it."""
    approval.decision = Approval.Decision.VOIDED
    approval.voided_at = timezone.now()
    approval.save(update_fields=["decision", "voided_at"])
    audit_event_record(
        action="campaign.approval_voided", actor=actor,
        workspace=approval.campaign.workspace, target=approval.campaign.audit_target,
        details={
            "approval_id": approval.pk, "fingerprint": approval.fingerprint,
            "fields": [change["field"] for change in changes], "reason": reason,
        },
    )
    approval_voided_notify(approval=approval, changes=changes, actor=actor)
    return approval


def approval_void_if_changed(*, campaign: Campaign, actor) -> Approval | None:
    """Void the campaign's pending or approved approval if the mirrored email no
    longer matches its fingerprint. Returns the voided approval, or None.

    Reads only the mirror: callers refresh it (edit, sync) before calling."""
    approval = approval_current(campaign=campaign)
    if approval is None:
        return None
    email = EmailActivity.objects.filter(campaign=campaign).first()
    if email is None:
        return None
    if approval_covers(approval, email):
        return None
    return approval_void(
        approval=approval, actor=actor, changes=changes_since_approval(approval, email)
    )


def approval_request(
    *, campaign: Campaign, membership: Membership, cc: ConstantContact, note: str = ""
) -> Approval:
    """Ask for review of what Constant Contact holds now (read first through `cc`).

    Refused unless the email is a draft. Withdraws any earlier pending or approved
    approval: only the newest request is in play."""
    if not EmailActivity.objects.filter(campaign=campaign).exists():
        raise ApprovalRefused("This campaign's email hasn't been read from Constant Contact "
                              "yet; sync the campaigns first.")
    email = campaign_email_refresh(campaign=campaign, cc=cc)
    if email.status != CampaignStatus.DRAFT:
        raise ApprovalRefused(
            f"Only a draft can be sent for review; this campaign is "
            f"{email.get_status_display().lower()} in Constant Contact."
        )
    snapshot = outgoing_snapshot(email)
    user = membership.user
    with transaction.atomic():
        withdrawn = list(
            Approval.objects.select_for_update()
            .filter(campaign=campaign, decision__in=IN_PLAY)
            .values_list("pk", flat=True)
        )
        if withdrawn:
            Approval.objects.filter(pk__in=withdrawn).update(
                decision=Approval.Decision.WITHDRAWN, voided_at=timezone.now()
            )
        approval = Approval.objects.create(
            campaign=campaign, fingerprint=fingerprint(snapshot), snapshot=snapshot,
            requested_by=user, request_note=note.strip(),
        )
        audit_event_record(
            action="campaign.review_requested", actor=user, workspace=campaign.workspace,
            target=campaign.audit_target,
            details={"approval_id": approval.pk, "fingerprint": approval.fingerprint,
                     "withdrew": withdrawn},
        )
        # Inside the transaction: a rolled-back request notifies nobody; emails go
        # out after the commit.
        review_requested_notify(approval=approval)
    return approval


def approval_decide(
    *, approval: Approval, membership: Membership, cc: ConstantContact, approve: bool,
    comment: str = "", seen_fingerprint: str = "",
) -> Approval:
    """Approve or reject `approval` (pending) with a comment.

    Re-reads the email from Constant Contact first: if it no longer matches the
    fingerprint under review, the approval is voided and ApprovalVoided says what
    changed. `seen_fingerprint` (what the approver's page showed; blank: not
    checked) guards against deciding on a review that was replaced meanwhile."""
    campaign = approval.campaign
    user = membership.user
    comment = comment.strip()
    if not membership.role.has_capability(Capability.APPROVE):
        raise ApprovalRefused("Your role does not allow approving campaigns.")
    if approval.decision != Approval.Decision.PENDING:
        raise ApprovalRefused(
            f"This review is no longer waiting for a decision "
            f"({approval.get_decision_display().lower()})."
        )
    if seen_fingerprint and seen_fingerprint != approval.fingerprint:
        raise ApprovalRefused("The review changed while you were looking; read it again.")
    if blocked := four_eyes_reason(campaign=campaign, approval=approval, user=user):
        raise ApprovalRefused(blocked)
    if not approve and not comment:
        raise ApprovalRefused("Say what needs to change: a rejection needs a comment.")

    email = campaign_email_refresh(campaign=campaign, cc=cc)
    if not approval_covers(approval, email):
        changes = changes_since_approval(approval, email)
        approval_void(approval=approval, actor=user, changes=changes)
        raise ApprovalVoided(
            "The campaign changed in Constant Contact since review was asked for, so this "
            "review was voided. Nothing was approved; the changes are shown below. Ask for "
            "review again to approve the current content.",
            approval=approval, changes=changes,
        )
    if approve and email.status != CampaignStatus.DRAFT:
        raise ApprovalRefused(
            f"Only a draft can be approved; this campaign is "
            f"{email.get_status_display().lower()} in Constant Contact."
        )

    with transaction.atomic():
        # Lock and re-check: two approvers deciding at once must not both win.
        locked = Approval.objects.select_for_update().get(pk=approval.pk)
        if locked.decision != Approval.Decision.PENDING:
            raise ApprovalRefused("Someone else decided on this review a moment ago.")
        locked.decision = Approval.Decision.APPROVED if approve else Approval.Decision.REJECTED
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.comment = comment
        locked.save(update_fields=["decision", "decided_by", "decided_at", "comment"])
        audit_event_record(
            action="campaign.approved" if approve else "campaign.changes_requested",
            actor=user, workspace=campaign.workspace, target=campaign.audit_target,
            details={"approval_id": locked.pk, "fingerprint": locked.fingerprint},
        )
        review_decided_notify(approval=locked)
    return locked
