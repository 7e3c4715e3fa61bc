"""Reads for the approval panel and review page: the approval in play, its
history, and exactly what changed since the content was approved.

Nothing here calls Constant Contact or writes anything: the panel reads the
mirror, which every edit and sync refreshes (and which voids an approval that
no longer matches). The panel's forms are the views' to build.
"""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime

from apps.accounts.grants import Access, Area, Capability
from apps.accounts.models import Membership
from apps.campaigns.fingerprint import approval_covers, changes_since_approval
from apps.campaigns.models import Approval
from apps.core.timezones import format_in_zone
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity
from apps.mirror.selectors.audience import list_names
from apps.mirror.selectors.segments import segment_names

# Enough history to see the last few rounds of review; the audit log has the rest.
HISTORY_SIZE = 10
# The approvals that can still lead to a send: at most one per campaign.
IN_PLAY = (Approval.Decision.PENDING, Approval.Decision.APPROVED)


@dataclass
class ApprovalPanel:
    campaign: Campaign
    email: EmailActivity | None
    # The pending or approved approval, if any.
    current: Approval | None
    # The approval the "changed since" diff is against: the current one, or the
    # newest voided one when nothing is in play.
    compared: Approval | None
    changes: list[dict] = field(default_factory=list)
    history: list[Approval] = field(default_factory=list)
    # The approval in play still covers exactly what would go out.
    matches: bool = False
    can_request: bool = False
    can_approve: bool = False
    # Why this member may not decide (four eyes), '' otherwise.
    decide_blocked: str = ""

    @property
    def is_approved(self) -> bool:
        return (
            self.current is not None
            and self.current.decision == Approval.Decision.APPROVED
            and self.matches
        )

    @property
    def is_pending(self) -> bool:
        return self.current is not None and self.current.decision == Approval.Decision.PENDING

    @property
    def html_change(self) -> dict | None:
        return next((c for c in self.changes if c["field"] == "html_content"), None)

    @property
    def field_changes(self) -> list[dict]:
        return [c for c in self.changes if c["field"] != "html_content"]


def approval_current(*, campaign: Campaign) -> Approval | None:
    """The pending or approved approval of the campaign, if any."""
    return (
        Approval.objects.filter(campaign=campaign, decision__in=IN_PLAY)
        .order_by("-requested_at", "-id")
        .first()
    )


def approval_for(*, campaign: Campaign, approval_id: int) -> Approval:
    """The campaign's approval `approval_id`; 404 for any other campaign's."""
    return get_object_or_404(Approval, pk=approval_id, campaign=campaign)


def approval_history(*, campaign: Campaign, limit: int = HISTORY_SIZE) -> list[Approval]:
    return list(
        Approval.objects.filter(campaign=campaign)
        .select_related("requested_by", "decided_by")
        .order_by("-requested_at", "-id")[:limit]
    )


def _email_of(campaign: Campaign) -> EmailActivity | None:
    try:
        return campaign.email
    except EmailActivity.DoesNotExist:
        return None


def four_eyes_reason(*, campaign: Campaign, approval: Approval, user) -> str:
    """Why `user` may not decide on `approval` under the four-eyes rule ('' if they may).

    The one statement of the rule, shared by the panel and the decide service."""
    if not campaign.workspace.require_second_approver:
        return ""
    if campaign.author_id is not None and campaign.author_id == user.pk:
        return ("This workspace requires a second person to approve: you drafted this "
                "campaign, so someone else must review it.")
    if campaign.contributors.filter(pk=user.pk).exists():
        return ("This workspace requires a second person to approve: you changed this "
                "campaign's content, so someone else must review it.")
    if approval.requested_by_id == user.pk:
        return ("This workspace requires a second person to approve: you asked for this "
                "review, so someone else must decide on it.")
    return ""


def _diff_line_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "diff-file"
    if line.startswith("@@"):
        return "diff-hunk"
    if line.startswith("+"):
        return "diff-add"
    if line.startswith("-"):
        return "diff-del"
    return "diff-same"


def readable_changes(*, changes: list[dict], workspace, zone: str = "UTC") -> list[dict]:
    """The snapshot diff with values written for people: list names instead of
    ids, times in `zone`, and the HTML diff's lines tagged for styling."""
    list_ids = set()
    for change in changes:
        if change["field"] == "contact_list_ids":
            list_ids.update(change["old"] or [])
            list_ids.update(change["new"] or [])
    names = list_names(workspace=workspace, cc_ids=list_ids)
    segment_ids = set()
    for change in changes:
        if change["field"] == "segment_ids":
            segment_ids.update(change["old"] or [])
            segment_ids.update(change["new"] or [])
    segments = segment_names(workspace=workspace, cc_ids=segment_ids)

    def text(field: str, value) -> str:
        if field == "planned_send_at":
            if not value:
                return "As soon as it is scheduled"
            moment = parse_datetime(value)
            return f"{format_in_zone(moment, zone)} ({zone})" if moment else str(value)
        if field == "contact_list_ids":
            return ", ".join(names.get(i, f"List {i}") for i in value) if value else "(none)"
        if field == "physical_address_in_footer":
            return ", ".join(str(part) for part in (value or {}).values() if part) or "(none)"
        if field == "segment_ids":
            return ", ".join(_segment_label(segments, i) for i in value) if value else "(none)"
        return str(value) if value not in (None, "") else "(empty)"

    readable = []
    for change in changes:
        item = dict(change)
        if change["field"] == "html_content":
            item["lines"] = [(_diff_line_class(line), line) for line in change.get("diff", [])]
        else:
            item["old_text"] = text(change["field"], change["old"])
            item["new_text"] = text(change["field"], change["new"])
        readable.append(item)
    return readable


def approval_panel(*, campaign: Campaign, membership: Membership) -> ApprovalPanel:
    email = _email_of(campaign)
    history = approval_history(campaign=campaign)
    current = next((a for a in history if a.decision in (
        Approval.Decision.PENDING, Approval.Decision.APPROVED)), None)
    compared = current
    if compared is None and history and history[0].decision == Approval.Decision.VOIDED:
        compared = history[0]
    role = membership.role
    panel = ApprovalPanel(
        campaign=campaign, email=email, current=current, compared=compared, history=history,
        matches=current is not None and email is not None and approval_covers(current, email),
        changes=readable_changes(
            changes=changes_since_approval(compared, email),
            workspace=campaign.workspace, zone=membership.user.time_zone or "UTC",
        ) if compared and email else [],
        can_request=(
            email is not None
            and campaign.status == CampaignStatus.DRAFT
            and role.allows(Area.CAMPAIGNS, Access.WRITE)
        ),
        can_approve=role.has_capability(Capability.APPROVE),
    )
    if current is not None and panel.can_approve:
        panel.decide_blocked = four_eyes_reason(
            campaign=campaign, approval=current, user=membership.user
        )
    return panel


def _segment_label(names: dict[str, str], cc_id) -> str:
    # A segment deleted since keeps its id on screen, so the reviewer still sees what changed.
    name = names.get(str(cc_id))
    return f"Segment “{name}”" if name else f"Segment {cc_id}"


def snapshot_facts(*, campaign: Campaign, snapshot: dict) -> dict:
    """What the review page shows of a snapshot beyond its text fields: the
    audience's names and the planned send time as a datetime."""
    list_ids = [str(i) for i in snapshot.get("contact_list_ids") or []]
    names = list_names(workspace=campaign.workspace, cc_ids=list_ids)
    audience = [names.get(i, f"List {i}") for i in list_ids]
    segment_ids = [str(i) for i in snapshot.get("segment_ids") or []]
    segments = segment_names(workspace=campaign.workspace, cc_ids=segment_ids)
    audience += [_segment_label(segments, i) for i in segment_ids]
    planned = snapshot.get("planned_send_at")
    return {"audience_names": audience,
            "planned_send_at": parse_datetime(planned) if planned else None}


# --- Who a review concerns: the badge, "Needs my review", and notifications ---------

def approval_latest_decision(*, campaign: Campaign) -> str | None:
    """The newest review's decision (None: never reviewed), for the campaign's badge."""
    return (
        Approval.objects.filter(campaign=campaign)
        .order_by("-requested_at", "-id")
        .values_list("decision", flat=True)
        .first()
    )


def campaigns_awaiting_review(*, membership: Membership) -> QuerySet[Campaign]:
    """Drafts waiting for a review that this member may decide on: their role may
    approve, they did not author the campaign, and (under the four-eyes rule) they
    neither changed its content nor asked for the review themselves."""
    if not membership.role.has_capability(Capability.APPROVE):
        return Campaign.objects.none()
    user = membership.user
    pending = Approval.objects.filter(campaign=OuterRef("pk"), decision=Approval.Decision.PENDING)
    rows = (
        Campaign.objects.filter(workspace=membership.workspace, status=CampaignStatus.DRAFT)
        .filter(Exists(pending))
        .exclude(author=user)
    )
    if membership.workspace.require_second_approver:
        rows = rows.exclude(contributors=user).exclude(Exists(pending.filter(requested_by=user)))
    return rows


def _members_who(*, workspace, capability: Capability) -> list[Membership]:
    return [
        m for m in Membership.objects.filter(workspace=workspace, user__is_active=True)
        .select_related("user", "role")
        if m.role.has_capability(capability) and m.role.allows(Area.CAMPAIGNS, Access.READ)
    ]


def review_request_recipients(*, campaign: Campaign, approval: Approval) -> list:
    """Members who may decide on `approval`: the approve capability, campaigns read
    access, and not barred by the four-eyes rule (nor the one who asked)."""
    return [
        m.user for m in _members_who(workspace=campaign.workspace, capability=Capability.APPROVE)
        if m.user_id != approval.requested_by_id
        and not four_eyes_reason(campaign=campaign, approval=approval, user=m.user)
    ]


def campaign_owners(*, campaign: Campaign, approval: Approval) -> list:
    """Who a decision on `approval` concerns: the campaign's author and whoever asked
    for the review, while they are still members of the workspace."""
    ids = {i for i in (campaign.author_id, approval.requested_by_id) if i is not None}
    members = Membership.objects.filter(
        workspace=campaign.workspace, user_id__in=ids, user__is_active=True
    ).select_related("user")
    return [m.user for m in members]


def campaign_senders(*, campaign: Campaign) -> list:
    """Members who may schedule the campaign: the send capability and campaigns read."""
    return [m.user for m in _members_who(workspace=campaign.workspace,
                                         capability=Capability.SEND)]
