"""What an agent's request would do, read from the mirror: no call upstream.

    preview = preview_agent_request(agent=a, endpoint_name="contacts.delete",
                                    path_params={"contact_id": "…"}, params=None, body=None)

First the agent itself must be allowed to ask (`agent_may_ask`): a request is
the agent's own act, so its grants, its allow-list, its state and its caps
apply as they would to the call; only the live effect waits for a member.
Then each kind reads the things it names (the campaign, the contact, the
list, the segment, the contacts a removal would touch) and says, in lines a
member can check, what would happen, what it costs and what stands in the
way. Bad arguments are a ValueError with a message the agent can act on.
"""

from dataclasses import dataclass, field
from typing import Any

from apps.accounts.models import Agent
from apps.agents.selectors import (
    BULK_REMOVAL,
    REQUEST_KINDS,
    SCHEDULE,
    UNSUBSCRIBE,
    grant_needed_label,
    kind_endpoint,
)
from apps.bulk.selectors.selections import Selection, SelectionProblem
from apps.bulk.services.actions import Kind as BulkKind
from apps.bulk.services.actions import action_preview
from apps.campaigns.selectors.approvals import approval_current
from apps.campaigns.selectors.presend import email_audience
from apps.campaigns.selectors.sending import readiness_blocked_by_approval
from apps.constantcontact.agent_caps import (
    ENDPOINT_NOT_ALLOWED,
    EXPIRED,
    OVER_CAP,
    REVOKED,
    is_unsubscribe,
)
from apps.constantcontact.catalog import endpoint
from apps.constantcontact.errors import GrantDenied
from apps.core.timezones import format_in_zone
from apps.mirror.models import (
    Campaign,
    CampaignStatus,
    Contact,
    ContactList,
    EmailActivity,
    Segment,
)
from apps.mirror.selectors.segments import campaigns_using_segment

# A refusal for an agent that may run campaigns only as drafts.
DRAFTS_ONLY = "drafts_only"
# A refusal for an agent whose owner was deactivated (as the MCP key check says).
OWNER_GONE = "not_a_member"
# The calls a schedule costs, about: at the approval, the email is read again
# and the sender checked (2); the job reads the schedule and posts it (2).
SCHEDULE_CALLS = 4
# An unsubscribe is a get-merge-put: PUT replaces the whole contact.
UNSUBSCRIBE_CALLS = 2
# How many of the contacts a removal touches the preview names.
NAMED_CONTACTS = 5


@dataclass
class RequestPreview:
    summary: str
    lines: list[str]
    api_calls: int
    grant_needed: str
    warnings: list[str] = field(default_factory=list)
    # A schedule's approved version, as shown; "" when the campaign had none.
    approval_fingerprint: str = ""


def request_kind(endpoint_name: str, body: Any) -> str:
    """The kind of request a call is: its endpoint name, except a contacts.update
    that unsubscribes, which is an unsubscribe. ValueError for anything else."""
    if endpoint_name == "contacts.update":
        if is_unsubscribe(endpoint("contacts.update"), body):
            return UNSUBSCRIBE
        raise ValueError("contacts.update needs no approval unless it unsubscribes the contact "
                         "(email_address.permission_to_send = \"unsubscribed\"); call it directly.")
    if endpoint_name not in REQUEST_KINDS:
        raise ValueError(f"{endpoint_name} is not something an agent asks a member for. "
                         f"Requests exist for: {', '.join(sorted(REQUEST_KINDS))}.")
    return endpoint_name


def fresh_agent(agent: Agent) -> Agent:
    """The agent's row as it stands now (a revoke or a role change since the
    caller read it counts), with what its checks read."""
    return Agent.objects.select_related("workspace", "role", "owner__role", "owner__user").get(
        pk=agent.pk)


def agent_may_ask(agent: Agent, kind: str) -> None:
    """Raise GrantDenied unless `agent` may ask for `kind` at all."""
    entry = kind_endpoint(kind)
    if agent.is_revoked:
        raise GrantDenied("This agent's key was revoked.", reason=REVOKED)
    if agent.is_expired():
        raise GrantDenied("This agent's access has expired.", reason=EXPIRED)
    if not agent.owner.user.is_active:
        raise GrantDenied("This agent's owner can no longer sign in.", reason=OWNER_GONE)
    if agent.allowed_endpoints and not ({entry.name, kind} & set(agent.allowed_endpoints)):
        raise GrantDenied(f"This agent may not call {entry.name}.", reason=ENDPOINT_NOT_ALLOWED)
    if not agent.allows(entry.area, entry.access):
        raise GrantDenied(f"This agent lacks {entry.access.label.lower()} access to "
                          f"{entry.area.label}, which this needs.", reason="role_denies")
    for area, access in entry.also:
        if not agent.allows(area, access):
            raise GrantDenied(f"This agent lacks {access.label.lower()} access to "
                              f"{area.label}, which this also needs.", reason="role_denies")
    if entry.capability is not None and not agent.has_capability(entry.capability):
        raise GrantDenied(f"This agent lacks the {entry.capability.value} capability, "
                          "which this needs.", reason="capability_missing")
    if kind == SCHEDULE and agent.drafts_only:
        raise GrantDenied("This agent works on campaigns as drafts only; it may not ask to "
                          "schedule one.", reason=DRAFTS_ONLY)


def _param(path_params: dict, name: str, what: str) -> str:
    value = (path_params or {}).get(name)
    if value in (None, "") or not isinstance(value, (str, int)):
        raise ValueError(f"Give {name}, the {what}'s Constant Contact id.")
    return str(value)


# --- the kinds -----------------------------------------------------------------------


def schedule_campaign(agent: Agent, path_params: dict) -> Campaign:
    """The campaign a schedule request names, by its email activity's id (as the
    endpoint takes it) or by campaign_id."""
    workspace = agent.workspace
    activity_id = (path_params or {}).get("campaign_activity_id")
    if activity_id not in (None, ""):
        email = (EmailActivity.objects.select_related("campaign__workspace")
                 .filter(campaign__workspace=workspace, cc_id=str(activity_id)).first())
        if email is None:
            raise ValueError(f"No campaign's email has campaign_activity_id {activity_id} in "
                             "this workspace's copy; sync the campaigns or check the id.")
        return email.campaign
    if (path_params or {}).get("campaign_id") in (None, ""):
        raise ValueError("Give campaign_activity_id, the id of the campaign's email activity "
                         "(or campaign_id).")
    campaign_id = _param(path_params, "campaign_id", "campaign")
    campaign = Campaign.objects.filter(workspace=workspace, cc_id=campaign_id).first()
    if campaign is None:
        raise ValueError(f"No campaign {campaign_id} in this workspace's copy.")
    return campaign


def _schedule(agent: Agent, path_params: dict, body: dict) -> RequestPreview:
    campaign = schedule_campaign(agent, path_params)
    try:
        email = campaign.email
    except EmailActivity.DoesNotExist:
        raise ValueError(f"The campaign “{campaign.name}” has no email in this workspace's "
                         "copy yet; sync the campaigns first.")
    zone = agent.workspace.time_zone
    audience = email_audience(email=email)
    count = f" — about {audience.count:,} contacts" if audience.count is not None else ""
    when = (f"{format_in_zone(email.planned_send_at, zone)} ({zone})" if email.planned_send_at
            else "as soon as it is approved here")
    lines = [
        f"Schedule “{campaign.name}”",
        f"Subject: {email.subject or '—'}",
        f"From: {email.from_name} <{email.from_email}>",
        f"Audience: {audience.label or 'no lists chosen'}{count}",
        f"Send time: {when}",
    ]
    warnings = []
    shown_fingerprint = ""
    approval = approval_current(campaign=campaign)
    blocked, _changes = readiness_blocked_by_approval(approval=approval, email=email)
    if blocked:
        warnings.append("Campaign not approved yet — approve it first. " + blocked)
    else:
        who = approval.decided_by.display_name if approval.decided_by else "a member"
        lines.append(f"Approval: approved by {who}, fingerprint {approval.fingerprint}")
        shown_fingerprint = approval.fingerprint
    if email.status != CampaignStatus.DRAFT:
        warnings.append(f"The campaign is {email.get_status_display().lower()} in Constant "
                        "Contact; only a draft can be scheduled.")
    asked = (body or {}).get("scheduled_date")
    if asked not in (None, ""):
        warnings.append(f"The agent asked for the send time {asked}; the campaign goes out at "
                        "its own planned send time above, which is what its approval covers.")
    return RequestPreview(summary=f"Schedule the campaign “{campaign.name}”", lines=lines,
                          api_calls=SCHEDULE_CALLS, grant_needed="", warnings=warnings,
                          approval_fingerprint=shown_fingerprint)


def _contact(agent: Agent, path_params: dict) -> Contact:
    contact_id = _param(path_params, "contact_id", "contact")
    contact = Contact.objects.filter(workspace=agent.workspace, cc_id=contact_id).first()
    if contact is None:
        raise ValueError(f"No contact {contact_id} in this workspace's copy.")
    return contact


def _who(contact: Contact) -> str:
    name = contact.full_name
    address = contact.email or "no email address"
    return f"{name} <{address}>" if name else address


def _contact_lines(contact: Contact) -> list[str]:
    lists = list(contact.lists.order_by("name").values_list("name", flat=True)[:10])
    return [f"Email permission now: {contact.get_email_status_display().lower()}",
            f"Lists: {', '.join(lists) if lists else 'none'}"]


def _contact_delete(agent: Agent, path_params: dict, body: dict) -> RequestPreview:
    contact = _contact(agent, path_params)
    warnings = []
    if contact.deleted_upstream:
        warnings.append("The contact is already removed in this workspace's copy.")
    return RequestPreview(
        summary=f"Delete the contact {_who(contact)}",
        lines=[f"- Contact {_who(contact)}", *_contact_lines(contact),
               "It leaves every list and gets no more email; Constant Contact keeps it as "
               "deleted, and adding the address again brings it back."],
        api_calls=1, grant_needed="", warnings=warnings)


def _unsubscribe(agent: Agent, path_params: dict, body: dict) -> RequestPreview:
    contact = _contact(agent, path_params)
    warnings = []
    if contact.email_status == "unsubscribed":
        warnings.append("The contact is already unsubscribed in this workspace's copy.")
    if contact.deleted_upstream:
        warnings.append("The contact is removed; it can't be unsubscribed.")
    if not contact.email:
        warnings.append("The contact has no email address to unsubscribe.")
    current = contact.get_email_status_display().lower()
    return RequestPreview(
        summary=f"Unsubscribe {_who(contact)}",
        lines=[f"Contact {_who(contact)}",
               f"- email permission: {current}", "+ email permission: unsubscribed",
               "They get no more campaigns; only they can opt in again (a sign-up form)."],
        api_calls=UNSUBSCRIBE_CALLS, grant_needed="", warnings=warnings)


def _list_delete(agent: Agent, path_params: dict, body: dict) -> RequestPreview:
    list_id = _param(path_params, "list_id", "list")
    row = ContactList.objects.filter(workspace=agent.workspace, cc_id=list_id).first()
    if row is None:
        raise ValueError(f"No list {list_id} in this workspace's copy.")
    members = (f"{row.membership_count:,}" if row.membership_count is not None
               else "an unknown number of")
    warnings = []
    if row.delete_pending:
        warnings.append("A delete of this list is already under way.")
    # Few campaigns are scheduled at once: read them and look (JSON `contains`
    # is not portable across database backends).
    scheduled = [c.name for c in Campaign.objects.select_related("email").filter(
        workspace=agent.workspace, email__status=CampaignStatus.SCHEDULED)
        if row.cc_id in [str(v) for v in c.email.contact_list_ids or []]]
    if scheduled:
        warnings.append("Scheduled campaigns send to this list: "
                        + ", ".join(f"“{name}”" for name in scheduled) + ".")
    return RequestPreview(
        summary=f"Delete the list “{row.name}”",
        lines=[f"- List “{row.name}” ({members} members)",
               "Its contacts stay in the account; they only leave this list."],
        api_calls=1, grant_needed="", warnings=warnings)


def _segment_delete(agent: Agent, path_params: dict, body: dict) -> RequestPreview:
    segment_id = _param(path_params, "segment_id", "segment")
    segment = Segment.objects.filter(workspace=agent.workspace, cc_id=segment_id).first()
    if segment is None:
        raise ValueError(f"No segment {segment_id} in this workspace's copy.")
    warnings = []
    scheduled = campaigns_using_segment(workspace=agent.workspace_id, cc_id=segment.cc_id,
                                        scheduled_only=True)
    if scheduled:
        warnings.append("A scheduled campaign sends to this segment ("
                        + ", ".join(f"“{c.name}”" for c in scheduled)
                        + "), so it can't be deleted until that send is unscheduled.")
    return RequestPreview(
        summary=f"Delete the segment “{segment.name}”",
        lines=[f"- Segment “{segment.name}”",
               "Its contacts stay; only the segment's rules go."],
        api_calls=1, grant_needed="", warnings=warnings)


@dataclass
class Removal:
    """A bulk removal read from the call's body: which contacts, from which lists."""

    selection: Selection
    lists: list[ContactList]


def removal_from_body(agent: Agent, body: Any) -> Removal:
    """The removal a remove_list_memberships body names, in the mirror: its
    `list_ids` (the lists to leave) and a `source` of contact_ids or list_ids."""
    body = body if isinstance(body, dict) else {}
    workspace = agent.workspace
    target_ids = [str(v) for v in body.get("list_ids") or [] if isinstance(v, (str, int))]
    if not target_ids:
        raise ValueError("Give list_ids: the lists the contacts should leave.")
    lists = list(ContactList.objects.filter(workspace=workspace, cc_id__in=target_ids))
    unknown = sorted(set(target_ids) - {row.cc_id for row in lists})
    if unknown:
        raise ValueError(f"No list {', '.join(unknown)} in this workspace's copy.")
    source = body.get("source")
    if not isinstance(source, dict):
        raise ValueError("Give source: {\"contact_ids\": [...]} or {\"list_ids\": [...]}.")
    if isinstance(source.get("contact_ids"), list):
        cc_ids = list(dict.fromkeys(str(v) for v in source["contact_ids"]))
        found = dict(Contact.objects.filter(workspace=workspace, cc_id__in=cc_ids)
                     .values_list("cc_id", "pk"))
        missing = [v for v in cc_ids if v not in found]
        if missing:
            raise ValueError(f"{len(missing)} of the contact ids are not in this workspace's "
                             f"copy (the first: {missing[0]}).")
        selection = Selection(mode="contacts", ids=tuple(found[v] for v in cc_ids))
    elif isinstance(source.get("list_ids"), list):
        source_ids = [str(v) for v in source["list_ids"]]
        members_of = tuple(ContactList.objects.filter(workspace=workspace,
                                                      cc_id__in=source_ids))
        if len(members_of) != len(set(source_ids)):
            raise ValueError("Some of the source list_ids are not in this workspace's copy.")
        selection = Selection(mode="lists", lists=members_of)
    else:
        raise ValueError("An agent's removal names its contacts by contact_ids or by "
                         "list_ids in source; other sources need a member's bulk job.")
    return Removal(selection=selection, lists=lists)


def removal_within_cap(agent: Agent, removal: Removal):
    """The bulk preview of `removal` (its size read from the mirror now), or
    GrantDenied "over_cap" when it touches more contacts than the agent may in
    one job. Checked when the agent asks and again when a member approves: a
    source list can have grown, or the cap been lowered, in between."""
    try:
        preview = action_preview(workspace=agent.workspace, kind=BulkKind.REMOVE_FROM_LISTS,
                                 selection=removal.selection)
    except SelectionProblem as exc:
        raise ValueError(exc.message) from exc
    if preview.size > agent.max_contacts_per_job:
        raise GrantDenied(
            f"This removal touches {preview.size:,} contacts; this agent may touch at most "
            f"{agent.max_contacts_per_job:,} in one job.", reason=OVER_CAP)
    return preview


def _bulk_removal(agent: Agent, path_params: dict, body: dict) -> RequestPreview:
    removal = removal_from_body(agent, body)
    preview = removal_within_cap(agent, removal)
    names = ", ".join(f"“{row.name}”" for row in removal.lists)
    lines = [f"Remove {preview.size:,} contacts ({preview.label}) from {names}",
             f"How: {preview.plan.explanation}"]
    if removal.selection.mode == "contacts":
        shown = Contact.objects.filter(pk__in=removal.selection.ids[:NAMED_CONTACTS])
        lines += [f"- {_who(contact)}" for contact in shown]
        if preview.size > NAMED_CONTACTS:
            lines.append(f"… and {preview.size - NAMED_CONTACTS:,} more")
    lines.append("The contacts stay in the account; it runs as a bulk job with its own page.")
    warnings = [] if preview.budget.fits else [preview.budget.sentence]
    return RequestPreview(summary=f"Remove {preview.size:,} contacts from {names}",
                          lines=lines, api_calls=preview.calls, grant_needed="",
                          warnings=warnings)


_PREVIEWS = {
    SCHEDULE: _schedule,
    "contacts.delete": _contact_delete,
    "lists.delete": _list_delete,
    "segments.delete": _segment_delete,
    BULK_REMOVAL: _bulk_removal,
    UNSUBSCRIBE: _unsubscribe,
}


def preview_kind(*, agent: Agent, kind: str, path_params: dict, body: Any) -> RequestPreview:
    """The preview of a request of `kind` by an agent already allowed to ask."""
    preview = _PREVIEWS[kind](agent, path_params or {}, body if isinstance(body, dict) else {})
    preview.grant_needed = grant_needed_label(kind)
    return preview


def preview_agent_request(*, agent: Agent, endpoint_name: str, path_params: dict,
                          params: dict | None = None, body: dict | None = None
                          ) -> RequestPreview:
    """What the request would do and cost, from the mirror. Raises GrantDenied
    when the agent may not ask for it, ValueError for bad arguments."""
    kind = request_kind(endpoint_name, body)
    agent = fresh_agent(agent)
    agent_may_ask(agent, kind)
    return preview_kind(agent=agent, kind=kind, path_params=path_params, body=body)


