"""Reads for the campaigns screens: one campaign (scoped to the workspace), the
filtered and sorted list, a campaign's audience with list names and sizes, the
lists and sender addresses the editor offers, and how fresh the mirror is.

Everything here reads the mirror; nothing calls Constant Contact.
"""

from dataclasses import dataclass

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from apps.accounts.models import Membership, Workspace
from apps.campaigns.models import Approval
from apps.campaigns.selectors.approvals import campaigns_awaiting_review
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity, SyncRun
from apps.mirror.selectors.audience import lists_by_cc_id, lists_open_for_use
from apps.mirror.selectors.runs import Freshness, sync_freshness, sync_run_latest
from apps.mirror.selectors.segments import segment_estimate, segments_by_cc_id, segments_of

SYNC_SCOPE = SyncRun.Scope.CAMPAIGNS

# The list's status filter: "" shows everything except deleted campaigns.
STATUS_ALL = "all"
# The list's review filter: the drafts this member may review, or drafts by the
# state of their newest review (the badge's words).
REVIEW_MINE = "mine"
REVIEW_DECISIONS = {
    "in_review": Approval.Decision.PENDING,
    "changes_requested": Approval.Decision.REJECTED,
    "approved": Approval.Decision.APPROVED,
}
SORTS = {
    "-updated": ("-updated_upstream", "-pk"),
    "updated": ("updated_upstream", "pk"),
    "-created": ("-created_upstream", "-pk"),
    "created": ("created_upstream", "pk"),
}
DEFAULT_SORT = "-updated"


NOT_EDITABLE = {
    CampaignStatus.SCHEDULED: "This campaign is scheduled in Constant Contact, so its email "
    "can't be changed. Unschedule it first (it then returns to a draft), edit, and ask for "
    "review again.",
    CampaignStatus.EXECUTING: "Constant Contact is sending this campaign right now; it can't "
    "be changed.",
    CampaignStatus.DONE: "This campaign was already sent, so its email can't be changed here.",
    CampaignStatus.ERROR: "Constant Contact reports an error for this campaign, and only drafts "
    "can be edited. Check it in Constant Contact.",
    CampaignStatus.REMOVED: "This campaign was deleted in Constant Contact.",
}
NOT_DELETABLE = {
    CampaignStatus.SCHEDULED: "This campaign is scheduled, so it can't be deleted. Unschedule "
    "it first.",
    CampaignStatus.EXECUTING: "Constant Contact is sending this campaign right now; it can't "
    "be deleted.",
    CampaignStatus.DONE: "This campaign was sent. Sent campaigns are kept: their reports and "
    "the record of what went out stay with them.",
    CampaignStatus.REMOVED: "This campaign was already deleted.",
}



def campaign_for(*, workspace: Workspace, campaign_id: int) -> Campaign:
    """The campaign, if it belongs to `workspace`; 404 otherwise."""
    return get_object_or_404(
        Campaign.objects.select_related("author", "workspace"), pk=campaign_id,
        workspace=workspace,
    )


def campaign_email(campaign: Campaign) -> EmailActivity | None:
    """The mirrored primary email, or None before the first sync has read it."""
    try:
        return campaign.email
    except EmailActivity.DoesNotExist:
        return None


def campaign_rows(
    *, workspace: Workspace, status: str = "", q: str = "", sort: str = DEFAULT_SORT,
    review: str = "", membership: Membership | None = None,
) -> QuerySet[Campaign]:
    """Campaigns for the list, each annotated with its newest review's decision
    (`approval_decision`, for its badge). `status` is a CampaignStatus value, "all",
    or "" (everything but removed ones); `q` matches anywhere in the name; `review`
    is one of REVIEW_FILTERS ("mine": the drafts `membership` may review)."""
    newest = Approval.objects.filter(campaign=OuterRef("pk")).order_by("-requested_at", "-id")
    rows = (
        Campaign.objects.filter(workspace=workspace).select_related("email", "author")
        .annotate(approval_decision=Subquery(newest.values("decision")[:1]))
    )
    if review == REVIEW_MINE:
        awaiting = (campaigns_awaiting_review(membership=membership) if membership is not None
                    else Campaign.objects.none())
        rows = rows.filter(pk__in=awaiting.values("pk"))
    elif review in REVIEW_DECISIONS:
        rows = rows.filter(status=CampaignStatus.DRAFT,
                           approval_decision=REVIEW_DECISIONS[review])
    if status == STATUS_ALL:
        pass
    elif status in CampaignStatus.values:
        rows = rows.filter(status=status)
    else:
        rows = rows.exclude(status=CampaignStatus.REMOVED)
    if q:
        rows = rows.filter(name__icontains=q)
    # Nulls (a campaign not yet synced has no upstream times) go last either way.
    field, tie = SORTS.get(sort, SORTS[DEFAULT_SORT])
    column = F(field.lstrip("-"))
    ordered = column.desc(nulls_last=True) if field.startswith("-") else column.asc(nulls_last=True)
    return rows.order_by(ordered, tie)


@dataclass(frozen=True)
class AudienceList:
    cc_id: str
    name: str
    size: int | None  # Constant Contact's member count, as of the last sync
    known: bool  # the list is in the mirror


def campaign_audience(*, workspace: Workspace, email: EmailActivity | None) -> list[AudienceList]:
    """The email's lists with their names and mirrored sizes, in name order; a
    list the mirror doesn't know (deleted since, or not synced yet) by its id."""
    if email is None:
        return []
    if email.segment_ids:
        # A segment instead of lists: its name, and the estimate of who can be emailed.
        return [_audience_segment(workspace, str(cc_id)) for cc_id in email.segment_ids]
    if not email.contact_list_ids:
        return []
    ids = [str(i) for i in email.contact_list_ids]
    known = lists_by_cc_id(workspace=workspace, cc_ids=ids)
    audience = [
        AudienceList(cc_id=i, name=known[i].name, size=known[i].membership_count, known=True)
        if i in known else AudienceList(cc_id=i, name=f"Unknown list {i}", size=None, known=False)
        for i in ids
    ]
    return sorted(audience, key=lambda a: (not a.known, a.name.lower()))


def _audience_segment(workspace: Workspace, cc_id: str) -> AudienceList:
    segment = segments_by_cc_id(workspace=workspace, cc_ids=[cc_id]).get(cc_id)
    if segment is None:
        return AudienceList(cc_id=cc_id, name=f"Unknown segment {cc_id}", size=None, known=False)
    estimate = segment_estimate(segment=segment, sendable_only=True)
    return AudienceList(cc_id=cc_id, name=f"Segment “{segment.name}”", size=estimate.count,
                        known=True)


def audience_list_choices(*, workspace: Workspace, selected: list[str] | None = None
                          ) -> list[tuple[str, str]]:
    """(cc_id, label) for the editor's list picker: every mirrored list not being
    deleted, plus any already chosen list the mirror doesn't know, so saving the
    form never drops it silently."""
    choices = []
    seen = set()
    for row in lists_open_for_use(workspace=workspace):
        size = "" if row.membership_count is None else f" ({row.membership_count:,})"
        choices.append((row.cc_id, f"{row.name}{size}"))
        seen.add(row.cc_id)
    for cc_id in selected or []:
        if str(cc_id) not in seen:
            choices.append((str(cc_id), f"Unknown list {cc_id}"))
    return choices


def audience_segment_choices(*, workspace: Workspace, selected: str = "",
                             with_sizes: bool = True) -> list[tuple[str, str]]:
    """(segment id, label) for the editor's segment picker, from the mirror floor,
    each with its estimated number of contacts who can be emailed (`with_sizes`:
    a size is contact-level data, as on the segments pages); a chosen segment the
    mirror doesn't know is kept, so saving never drops it silently."""
    choices = []
    for segment in segments_of(workspace=workspace):
        estimate = segment_estimate(segment=segment, sendable_only=True) if with_sizes else None
        size = f" (about {estimate.count:,})" if estimate and estimate.known else ""
        choices.append((segment.cc_id, f"{segment.name}{size}"))
    if selected and selected not in {cc_id for cc_id, _ in choices}:
        choices.append((selected, f"Unknown segment {selected}"))
    return choices


def mirrored_sender_addresses(*, workspace: Workspace) -> list[str]:
    """From and reply-to addresses the account's campaigns already use: Constant
    Contact accepted each as a confirmed address when that campaign was saved."""
    addresses: set[str] = set()
    for from_email, reply_to in EmailActivity.objects.filter(
        campaign__workspace=workspace
    ).values_list("from_email", "reply_to_email"):
        addresses.update(a.lower() for a in (from_email, reply_to) if a)
    return sorted(addresses)


def campaigns_freshness(*, workspace: Workspace) -> Freshness:
    return sync_freshness(workspace=workspace, scope=SYNC_SCOPE)


def campaigns_sync_latest(*, workspace: Workspace) -> SyncRun | None:
    return sync_run_latest(workspace=workspace, scope=SYNC_SCOPE)


def campaign_editable_reason(*, campaign: Campaign) -> str:
    """Why the mirror says the email can't be edited; '' when it can (as far as
    the mirror knows: the edit itself asks Constant Contact again)."""
    if campaign.status != CampaignStatus.DRAFT:
        return NOT_EDITABLE.get(campaign.status, "Only drafts can be edited.")
    email = campaign_email(campaign)
    if email is None or not campaign.primary_activity_id:
        return ("This campaign's email hasn't been read from Constant Contact yet. Run a sync "
                "of the campaigns, then edit it.")
    if email.status != CampaignStatus.DRAFT:
        return NOT_EDITABLE.get(email.status, "Only drafts can be edited.")
    return ""


def campaign_deletable_reason(*, campaign: Campaign) -> str:
    return NOT_DELETABLE.get(campaign.status, "")
