"""Writes for campaigns: create a draft, edit it, rename, delete; and the list of
verified sender addresses the editor offers.

Each write goes to Constant Contact through the gate, acting for the member, and
only then updates the mirror from Constant Contact's answer, so a refused or
failed call leaves the mirror as it was. The gate is never called inside a
transaction (a token refresh must commit).

- **Create** is `POST /emails` (format_type 5, custom code), then — because
  recipients can only be set on the activity (contract §3.7) — a GET of the new
  primary email and a PUT of the whole activity with the chosen lists.
- **Edit** reads the activity first (whole, with its sub-resources), refuses if
  Constant Contact no longer has it as a draft, merges the member's changes
  into it and PUTs the whole activity back (a PUT overwrites missing top-level
  fields, contract §3.7). Every successful edit then asks the approvals service
  to void an approval that no longer matches what would go out.
- **Delete** is refused, here, once a campaign is scheduled, sending or sent
  (our rule: Constant Contact would delete a sent campaign), and the live status
  is read first so a stale mirror can't let one through.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import transaction

from apps.accounts.grants import Access, Area
from apps.accounts.models import Membership, Workspace
from apps.audit.services import audit_event_record
from apps.campaigns.selectors.campaigns import (
    NOT_EDITABLE,
    campaign_deletable_reason,
    campaign_editable_reason,
    campaign_email,
    mirrored_sender_addresses,
)
from apps.campaigns.services.approvals import approval_void_if_changed
from apps.constantcontact.errors import ConstantContactError, NotFound
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.mirror.mapping import ACTIVITY_INCLUDE, status_from_upstream
from apps.mirror.models import Campaign, CampaignStatus, EmailActivity
from apps.mirror.services.campaigns import (
    campaign_mirror_save,
    email_mark_removed,
    email_mirror_save,
)

# The API creates custom-code emails (format 5) or editor emails (4); we write HTML.
CUSTOM_CODE = 5
# Verified addresses change rarely (confirming one takes a click in an email), and
# the editor is opened often: a few minutes of caching saves a call per form view.
SENDERS_CACHE_SECONDS = 5 * 60

class CampaignNotEditable(Exception):
    """The campaign can't take this change now; `message` says why, for people."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class CampaignNotDeletable(CampaignNotEditable):
    pass


class CampaignCreatedIncompletely(Exception):
    """The campaign exists in Constant Contact (and the mirror), but a step after
    creating it failed — its audience is not set yet."""

    def __init__(self, campaign: Campaign, message: str):
        self.campaign = campaign
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class EmailDraft:
    """What the member typed into the editor: everything that goes out."""

    from_name: str
    from_email: str
    reply_to_email: str
    subject: str
    preheader: str
    html_content: str
    contact_list_ids: list[str]
    planned_send_at: datetime | None  # ccadmin's own; None: "as soon as scheduled"
    # One segment instead of lists (its segment_id, as text); "" when lists are chosen.
    segment_id: str = ""


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


# --- Sender addresses -----------------------------------------------------------

@dataclass(frozen=True)
class SenderAddresses:
    addresses: list[str]
    # True: the account's confirmed addresses (live or cached). False: the
    # addresses the account's campaigns already use, with `note` saying why.
    from_account: bool
    note: str = ""


def _senders_cache_key(workspace: Workspace) -> str:
    return f"campaigns:verified-senders:{workspace.pk}"


def sender_addresses_forget(*, workspace: Workspace) -> None:
    """Drop the cached list (Constant Contact just refused one of its addresses)."""
    cache.delete(_senders_cache_key(workspace))


def sender_addresses_verified(*, workspace: Workspace, membership: Membership) -> SenderAddresses:
    """The account's CONFIRMED addresses, the only ones Constant Contact accepts as
    from and reply-to (contract §3.7, §3.8).

    Reading them (`GET /account/emails`) needs the Account read grant, which every
    preset role has. A member whose custom role lacks it gets the list another
    member's visit cached, or else the addresses the account's campaigns already
    use — each was confirmed when Constant Contact accepted that campaign, and it
    checks again on save, so an address unconfirmed since is still refused there.
    """
    cached = cache.get(_senders_cache_key(workspace))
    if cached is not None:
        return SenderAddresses(addresses=list(cached), from_account=True)
    if not membership.role.allows(Area.ACCOUNT, Access.READ):
        return SenderAddresses(
            addresses=mirrored_sender_addresses(workspace=workspace), from_account=False,
            note="Your role can't read the account's sender addresses, so these are the "
            "addresses this account's campaigns already use. Constant Contact still checks "
            "that the one you choose is verified.",
        )
    try:
        answer = _gate(workspace, membership).call("account.emails_list",
                                                   params={"confirm_status": "CONFIRMED"})
    except ConstantContactError as exc:
        return SenderAddresses(
            addresses=mirrored_sender_addresses(workspace=workspace), from_account=False,
            note="The account's sender addresses could not be read: "
            f"{upstream_error_message(exc)} These are the addresses this account's campaigns "
            "already use.",
        )
    items = answer.data if isinstance(answer.data, list) else []
    # The filter asked for CONFIRMED ones already; checking again costs nothing.
    addresses = sorted({
        str(item.get("email_address") or "").lower()
        for item in items
        if isinstance(item, dict) and item.get("confirm_status") == "CONFIRMED"
        and item.get("email_address")
    })
    cache.set(_senders_cache_key(workspace), addresses, SENDERS_CACHE_SECONDS)
    return SenderAddresses(addresses=addresses, from_account=True)


# --- Create ---------------------------------------------------------------------

def _merged_activity(current: dict, draft: EmailDraft) -> dict:
    """Constant Contact's whole activity with the member's changes on top: a PUT
    overwrites what it leaves out (contract §3.7)."""
    body = dict(current)
    body.update(
        from_name=draft.from_name,
        from_email=draft.from_email,
        reply_to_email=draft.reply_to_email,
        subject=draft.subject,
        preheader=draft.preheader,
        html_content=draft.html_content,
    )
    if draft.segment_id:
        # "an array containing a single segment_id" (an integer), and no lists with it
        # (spec EmailCampaignActivity.segment_ids).
        body["segment_ids"] = [int(draft.segment_id)]
        body["contact_list_ids"] = []
    elif draft.contact_list_ids:
        # Lists or a segment, never both (contract §3.7): choosing lists replaces
        # a segment set in Constant Contact's own app.
        body["contact_list_ids"] = list(draft.contact_list_ids)
        body["segment_ids"] = []
    else:
        body["contact_list_ids"] = []
    return body


def _save_email(*, campaign: Campaign, data: dict, planned_send_at: datetime | None
                ) -> EmailActivity:
    with transaction.atomic():
        email = email_mirror_save(campaign=campaign, data=data)
        email.planned_send_at = planned_send_at
        email.save(update_fields=["planned_send_at"])
        if campaign.status != email.status and campaign.status != CampaignStatus.REMOVED:
            campaign.status = email.status
            campaign.save(update_fields=["status"])
    return email


def campaign_create(
    *, workspace: Workspace, membership: Membership, name: str, draft: EmailDraft
) -> Campaign:
    """Create a draft campaign in Constant Contact and mirror it, authored by the member.

    Raises Conflict (409) for a name in use, ValidationError for what Constant
    Contact refuses, and CampaignCreatedIncompletely when the campaign exists
    but its audience could not be set.
    """
    cc = _gate(workspace, membership)
    activity = {
        "format_type": CUSTOM_CODE,
        "from_name": draft.from_name,
        "from_email": draft.from_email,
        "reply_to_email": draft.reply_to_email,
        "subject": draft.subject,
        "html_content": draft.html_content,
    }
    if draft.preheader:
        activity["preheader"] = draft.preheader
    answer = cc.call("emails.create", json={"name": name, "email_campaign_activities": [activity]})
    with transaction.atomic():
        campaign = campaign_mirror_save(workspace=workspace, data=answer.data or {},
                                        author=membership.user)
    audit_event_record(
        action="campaign.created", actor=membership.user, workspace=workspace,
        target=campaign.audit_target,
        details={"name": campaign.name, "lists": len(draft.contact_list_ids),
                 **({"segment": draft.segment_id} if draft.segment_id else {})},
    )

    # Until the activity is read back, the mirror holds what Constant Contact accepted.
    accepted = {**activity, "preheader": draft.preheader, "current_status": "DRAFT",
                "contact_list_ids": [], "segment_ids": []}
    try:
        if not campaign.primary_activity_id:
            # POST /emails answers with the activities; this is for an answer that didn't.
            detail = cc.call("emails.get", campaign_id=campaign.cc_id)
            with transaction.atomic():
                campaign = campaign_mirror_save(workspace=workspace, data=detail.data or {})
        accepted["campaign_activity_id"] = campaign.primary_activity_id
        current = cc.call("emails.activity_get", campaign_activity_id=campaign.primary_activity_id,
                          params={"include": ACTIVITY_INCLUDE}).data or {}
        data = current
        if draft.contact_list_ids or draft.segment_id:
            body = _merged_activity(current, draft)
            put = cc.call("emails.activity_update",
                          campaign_activity_id=campaign.primary_activity_id, json=body).data
            data = {**body, **(put if isinstance(put, dict) else {})}
    except ConstantContactError as exc:
        if campaign.primary_activity_id:
            _save_email(campaign=campaign, data=accepted, planned_send_at=draft.planned_send_at)
        raise CampaignCreatedIncompletely(
            campaign,
            "The campaign was created in Constant Contact, but its audience could not be set: "
            f"{upstream_error_message(exc)} Edit it to try again.",
        ) from exc
    _save_email(campaign=campaign, data=data, planned_send_at=draft.planned_send_at)
    campaign.refresh_from_db()
    return campaign


# --- Edit -----------------------------------------------------------------------

# The activity's fields an approval covers (besides the planned send time, ours).
OUTGOING_FIELDS = ("from_name", "from_email", "reply_to_email", "subject", "preheader",
                   "html_content", "contact_list_ids", "segment_ids")


def _outgoing(email: EmailActivity | None) -> dict:
    if email is None:
        return {}
    return {
        "from_name": email.from_name, "from_email": email.from_email,
        "reply_to_email": email.reply_to_email, "subject": email.subject,
        "preheader": email.preheader, "html_content": email.html_content,
        "contact_list_ids": sorted(email.contact_list_ids or []),
        "segment_ids": sorted(str(s) for s in email.segment_ids or []),
        "planned_send_at": email.planned_send_at.isoformat() if email.planned_send_at else None,
    }


def _changes_what_goes_out(*, current: dict, body: dict, before: dict, draft: EmailDraft
                           ) -> bool:
    """Whether PUTting `body` over Constant Contact's `current` activity, with the
    draft's planned send time, changes anything an approval covers."""
    planned = draft.planned_send_at.isoformat() if draft.planned_send_at else None
    return planned != before.get("planned_send_at") or any(
        body.get(name) != current.get(name) for name in OUTGOING_FIELDS
    )


def campaign_update(*, campaign: Campaign, membership: Membership, draft: EmailDraft) -> Campaign:
    """Save the member's changes to a draft's email. Raises CampaignNotEditable when
    the mirror or Constant Contact says it is no longer a draft (the mirror then
    holds Constant Contact's current status), and the gate's errors otherwise."""
    reason = campaign_editable_reason(campaign=campaign)
    if reason:
        raise CampaignNotEditable(reason)
    workspace = campaign.workspace
    cc = _gate(workspace, membership)
    current = cc.call("emails.activity_get", campaign_activity_id=campaign.primary_activity_id,
                      params={"include": ACTIVITY_INCLUDE}).data or {}
    live_status = status_from_upstream(current.get("current_status"))
    if live_status != CampaignStatus.DRAFT:
        # Scheduled or sent in the meantime (perhaps in Constant Contact's own app):
        # the mirror learns it, the member is told, nothing is written.
        email = campaign_email(campaign)
        _save_email(campaign=campaign, data=current,
                    planned_send_at=email.planned_send_at if email else None)
        raise CampaignNotEditable(NOT_EDITABLE.get(live_status, "Only drafts can be edited."))

    before = _outgoing(campaign_email(campaign))
    body = _merged_activity(current, draft)
    if _changes_what_goes_out(current=current, body=body, before=before, draft=draft):
        # Four eyes: whoever sends a change to what goes out may not approve it.
        # Noted before the PUT: if its answer is lost, the change may have landed.
        campaign.contributors.add(membership.user)
    put = cc.call("emails.activity_update", campaign_activity_id=campaign.primary_activity_id,
                  json=body).data
    email = _save_email(
        campaign=campaign, data={**body, **(put if isinstance(put, dict) else {})},
        planned_send_at=draft.planned_send_at,
    )
    after = _outgoing(email)
    changed = sorted(name for name in after if before.get(name) != after[name])
    if changed:
        campaign.contributors.add(membership.user)
    audit_event_record(
        action="campaign.updated", actor=membership.user, workspace=workspace,
        target=campaign.audit_target, details={"name": campaign.name, "fields": changed},
    )
    campaign = Campaign.objects.select_related("email").get(pk=campaign.pk)
    # Outside any transaction, after the mirror holds the new content.
    approval_void_if_changed(campaign=campaign, actor=membership.user)
    return campaign


# --- Rename and delete ----------------------------------------------------------

def campaign_rename(*, campaign: Campaign, membership: Membership, name: str) -> Campaign:
    """Rename (`PATCH /emails/{id}`). The name is not part of what goes out, so it
    never touches an approval. Raises Conflict for a name in use."""
    if campaign.status == CampaignStatus.REMOVED:
        raise CampaignNotEditable(NOT_EDITABLE[CampaignStatus.REMOVED])
    old_name = campaign.name
    answer = _gate(campaign.workspace, membership).call("emails.rename", campaign_id=campaign.cc_id,
                                                        json={"name": name})
    data = answer.data if isinstance(answer.data, dict) and answer.data.get("campaign_id") else {
        **(campaign.raw or {}), "campaign_id": campaign.cc_id, "name": name,
    }
    with transaction.atomic():
        campaign = campaign_mirror_save(workspace=campaign.workspace, data=data)
    audit_event_record(
        action="campaign.renamed", actor=membership.user, workspace=campaign.workspace,
        target=campaign.audit_target, details={"from": old_name, "to": campaign.name},
    )
    return campaign


def campaign_delete(*, campaign: Campaign, membership: Membership) -> Campaign:
    """Delete a campaign that was never sent. Raises CampaignNotDeletable when the
    mirror or Constant Contact's live status says it is scheduled, sending or sent."""
    reason = campaign_deletable_reason(campaign=campaign)
    if reason:
        raise CampaignNotDeletable(reason)
    workspace = campaign.workspace
    cc = _gate(workspace, membership)
    try:
        live = cc.call("emails.get", campaign_id=campaign.cc_id).data or {}
    except NotFound:
        live = None  # gone upstream already: the mirror follows
    if live is not None:
        with transaction.atomic():
            campaign = campaign_mirror_save(workspace=workspace, data=live)
        reason = campaign_deletable_reason(campaign=campaign)
        if reason:
            raise CampaignNotDeletable(reason)
        try:
            cc.call("emails.delete", campaign_id=campaign.cc_id)
        except NotFound:
            pass  # deleted a moment ago elsewhere: the outcome the member wanted
    with transaction.atomic():
        campaign.status = CampaignStatus.REMOVED
        campaign.save(update_fields=["status"])
        email_mark_removed(campaign=campaign)
    audit_event_record(
        action="campaign.deleted", actor=membership.user, workspace=workspace,
        target=campaign.audit_target, details={"name": campaign.name},
    )
    return campaign
