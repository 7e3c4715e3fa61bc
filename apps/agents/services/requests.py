"""Agent requests: an agent asks for a live effect, a member decides.

    preview = preview_agent_request(agent=a, endpoint_name=..., path_params=..., params=...,
                                    body=...)
    req = propose_agent_request(agent=a, endpoint_name=..., path_params=..., params=..., body=...)
    req = approve_agent_request(request_obj=req, membership=m)     # runs it, as m
    req = decline_agent_request(request_obj=req, membership=m, note="Not now")

Proposing stores the request with its preview (read from the mirror, no call
upstream), records `agent.request_created` with the agent as actor (its owner
beside it, as the gate names agents) and tells the members who may decide.
An identical request still open (same agent, kind, ids and body) is returned
instead of a second one, and an agent has at most MAX_OPEN_PER_AGENT open at
once: asking can't flood the inbox or the deciders' notifications.

The summary, preview and result name contacts (a name, an address): they stay
on the request row, which only members who may read them see. The audit log
gets the kind, the Constant Contact ids, the request and the agent.

Approving runs the request AS THE APPROVING MEMBER through the area's own
service — the campaign's normal schedule path with its approval and four-eyes
checks, the contacts, lists and segments deletes, the bulk job service, the
contact unsubscribe — so the member's grant is what the gate checks, and the
member owns the effect. A request runs at most once: the approval claims the
row (pending → running) under a row lock before anything is sent, and only
the claim's holder runs it. Before claiming, the agent must still be allowed to
ask (not revoked or expired, its owner active, its grants, allow-list and
drafts-only cap as they are now), and each kind checks again what the agent
was shown: a schedule runs only the approved version its preview showed, a
removal only within the agent's contacts-per-job cap.

What the product refuses before sending anything (no grant, the campaign not
approved yet, a segment still in use) is a RequestRefused: the request stays
pending and the refusal is kept on it. What fails at Constant Contact ends
the request as failed, with the reason in words: the call may have been
half-done, so it is never retried blindly; the agent can ask again.
"""

import logging
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.grants import Access
from apps.accounts.models import Agent, Membership
from apps.agents.models import AgentRequest
from apps.agents.selectors import (
    BULK_REMOVAL,
    REQUEST_KINDS,
    SCHEDULE,
    UNSUBSCRIBE,
    decision_rule,
    may_decide,
    request_deciders,
    shown_areas,
)
from apps.agents.services.previews import (
    RequestPreview,
    agent_may_ask,
    fresh_agent,
    preview_agent_request,
    preview_kind,
    removal_from_body,
    removal_within_cap,
    request_kind,
    schedule_campaign,
)
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.bulk.selectors.selections import SelectionProblem
from apps.bulk.services.actions import Kind as BulkKind
from apps.bulk.services.actions import action_start
from apps.campaigns.selectors.approvals import approval_current
from apps.campaigns.services.sending import SendRefused, send_schedule_request
from apps.constantcontact.agent_caps import OVER_CAP
from apps.constantcontact.errors import (
    BudgetExhausted,
    ConstantContactError,
    GrantDenied,
    LimiterBusy,
    LimiterUnavailable,
    NotConnected,
)
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, gate_for
from apps.contacts.services.contacts import ContactRefused, contact_delete, contact_unsubscribe
from apps.contacts.services.lists import list_delete
from apps.mirror.models import Campaign, Contact, ContactList, Segment
from apps.mirror.services.activities import DeletePending
from apps.notifications.kinds import Kind as NoticeKind
from apps.notifications.services import Message, notify
from apps.segments.services.segments import SegmentInUse, segment_delete

logger = logging.getLogger(__name__)

# Refusals at our own boundary: the call never left, so nothing happened upstream
# and the request can wait for a later approval.
NEVER_SENT = (GrantDenied, NotConnected, BudgetExhausted, LimiterBusy, LimiterUnavailable)
# The most requests one agent may have open (pending or running) at once.
MAX_OPEN_PER_AGENT = 20
OPEN = (AgentRequest.Status.PENDING, AgentRequest.Status.RUNNING)

# The API is one list: the MCP server imports these from here.
REQUESTABLE: frozenset[str] = frozenset({*REQUEST_KINDS, "contacts.update"})
__all__ = [
    "REQUESTABLE", "RequestPreview", "RequestRefused", "preview_agent_request",
    "propose_agent_request", "approve_agent_request", "decline_agent_request",
]


class RequestRefused(Exception):
    """The request can't be decided (or run) now; `message` says why. Nothing was
    sent to Constant Contact and the request is as it was."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def agent_label(agent: Agent) -> str:
    """How the audit log names an agent, as the gate does."""
    return f"agent {agent.name} (owner {agent.owner.user.email})"


def _asked_by(request_obj: AgentRequest) -> str:
    return f"agent {request_obj.agent_name} (owner {request_obj.owner_email})"


def _details(request_obj: AgentRequest, **more) -> dict:
    """What the audit log keeps of a request: never its summary, preview or result,
    which name contacts; only ids (a contact's Constant Contact id is no name)."""
    return {"request_id": request_obj.pk, "kind": request_obj.endpoint_name,
            "agent_id": request_obj.agent_id, "agent": request_obj.agent_name,
            "ids": {key: str(value) for key, value in request_obj.path_params.items()},
            **more}


# --- asking -----------------------------------------------------------------------


def _plain(value: Any) -> dict:
    return dict(value) if isinstance(value, dict) else {}


def propose_agent_request(*, agent: Agent, endpoint_name: str, path_params: dict,
                          params: dict | None = None, body: dict | None = None
                          ) -> AgentRequest:
    """Store the agent's request as pending, audit it and tell who may decide.
    Raises GrantDenied or ValueError as preview_agent_request does."""
    kind = request_kind(endpoint_name, body)
    agent = fresh_agent(agent)
    agent_may_ask(agent, kind)
    preview = preview_kind(agent=agent, kind=kind, path_params=path_params, body=body)
    path_params, body = _plain(path_params), _plain(body)
    with transaction.atomic():
        # One asker at a time per agent, so two identical asks can't both pass the
        # look for an open one below.
        Agent.objects.select_for_update().filter(pk=agent.pk).first()
        open_requests = list(AgentRequest.objects.filter(agent=agent, status__in=OPEN))
        for existing in open_requests:
            if (existing.endpoint_name, existing.path_params, existing.body) == \
                    (kind, path_params, body):
                return existing
        if len(open_requests) >= MAX_OPEN_PER_AGENT:
            raise GrantDenied(
                f"This agent already has {len(open_requests)} requests waiting for a member's "
                f"decision (at most {MAX_OPEN_PER_AGENT}); wait until some are decided before "
                "asking again.", reason=OVER_CAP)
        request_obj = AgentRequest.objects.create(
            workspace=agent.workspace, agent=agent, agent_name=agent.name,
            owner=agent.owner.user, owner_email=agent.owner.user.email,
            endpoint_name=kind, path_params=path_params, params=_plain(params),
            body=body, summary=preview.summary[:300], preview=preview.lines,
            warnings=preview.warnings, grant_needed=preview.grant_needed[:200],
            api_calls=preview.api_calls, approval_fingerprint=preview.approval_fingerprint,
        )
        audit_event_record(
            action="agent.request_created", actor=agent.owner.user,
            actor_label=agent_label(agent), workspace=agent.workspace,
            target=request_obj.audit_target,
            details=_details(request_obj, api_calls=preview.api_calls),
        )
        _notify_deciders(request_obj)
    return request_obj


def _notify_deciders(request_obj: AgentRequest) -> None:
    body = (f"The agent {request_obj.agent_name} (owned by {request_obj.owner_email}) asks: "
            f"{request_obj.summary}. It costs {request_obj.cost_label}.")
    if request_obj.warnings:
        body += "\n\n" + "\n".join(request_obj.warnings)
    notify(workspace=request_obj.workspace, url=request_obj.get_absolute_url(), messages=[
        Message(kind=NoticeKind.AGENT_REQUEST,
                title=f"Agent request: {request_obj.kind_label}",
                body=body,
                recipients=request_deciders(workspace=request_obj.workspace,
                                            kind=request_obj.endpoint_name)),
    ])


# --- deciding ---------------------------------------------------------------------


def _refuse_unless_may_decide(request_obj: AgentRequest, membership: Membership) -> None:
    if membership.workspace_id != request_obj.workspace_id:
        raise RequestRefused("This request belongs to another workspace.")
    kind = request_obj.endpoint_name
    if not decision_rule(kind).allows(membership.role):
        raise RequestRefused(f"Deciding this request needs {request_obj.grant_needed}, "
                             "which your role does not hold.")
    if not may_decide(membership.role, kind):
        unread = [area.label for area in shown_areas(kind)
                  if not membership.role.allows(area, Access.READ)]
        raise RequestRefused(f"This request shows data your role can't read (it needs read "
                             f"access to {' and '.join(unread) or 'its areas'}), so you "
                             "can't decide it.")


def _refuse_unless_pending(request_obj: AgentRequest) -> None:
    if request_obj.status == AgentRequest.Status.RUNNING:
        raise RequestRefused("This request is running now, approved by another member.")
    if request_obj.status != AgentRequest.Status.PENDING:
        who = request_obj.decided_by.display_name if request_obj.decided_by else "someone"
        raise RequestRefused(f"This request was already decided by {who}: "
                             f"{request_obj.get_status_display().lower()}.")


def decline_agent_request(*, request_obj: AgentRequest, membership: Membership,
                          note: str = "") -> AgentRequest:
    """Decline it: nothing runs. Raises RequestRefused if it isn't pending or the
    member may not decide it."""
    _refuse_unless_may_decide(request_obj, membership)
    with transaction.atomic():
        locked = AgentRequest.objects.select_for_update().get(pk=request_obj.pk)
        _refuse_unless_pending(locked)
        locked.status = AgentRequest.Status.DECLINED
        locked.decided_by, locked.decided_at = membership.user, timezone.now()
        locked.decision_note = note.strip()[:2000]
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_event_record(action="agent.request_declined", actor=membership.user,
                           workspace=locked.workspace, target=locked.audit_target,
                           details=_details(locked))
    return locked


def _claim(request_obj: AgentRequest, membership: Membership) -> AgentRequest:
    """Move it from pending to running under a row lock: of two approvals at once,
    the second finds it running and stops."""
    with transaction.atomic():
        locked = AgentRequest.objects.select_for_update().get(pk=request_obj.pk)
        _refuse_unless_pending(locked)
        locked.status = AgentRequest.Status.RUNNING
        locked.decided_by, locked.decided_at = membership.user, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


def _release(request_obj: AgentRequest, membership: Membership, message: str) -> None:
    """The product refused to run it: back to pending, the refusal kept and audited."""
    AgentRequest.objects.filter(pk=request_obj.pk, status=AgentRequest.Status.RUNNING).update(
        status=AgentRequest.Status.PENDING, decided_by=None, decided_at=None,
        last_refusal=message)
    audit_event_record(action="agent.request_refused", actor=membership.user,
                       workspace=request_obj.workspace, target=request_obj.audit_target,
                       outcome=Outcome.DENIED, details=_details(request_obj))


def _refuse_unless_agent_may_still_ask(request_obj: AgentRequest,
                                      membership: Membership) -> None:
    """The agent's asking is checked again as it stands now: revoked, expired, its
    owner deactivated, a grant or the allow-list narrowed, drafts-only set since.
    Any of these lasts until an admin changes the agent, so the refusal says to
    decline; the request stays pending, the refusal kept and audited."""
    if request_obj.agent_id is None:
        message = "The agent that asked was removed since"
    else:
        try:
            agent_may_ask(fresh_agent(request_obj.agent), request_obj.endpoint_name)
            return
        except GrantDenied as exc:
            message = f"The agent may no longer ask for this ({exc.message.rstrip('.')})"
    message += (", so this request can't run. Decline it; once the agent is allowed again it "
                "can ask again.")
    AgentRequest.objects.filter(pk=request_obj.pk, status=AgentRequest.Status.PENDING).update(
        last_refusal=message)
    audit_event_record(action="agent.request_refused", actor=membership.user,
                       workspace=request_obj.workspace, target=request_obj.audit_target,
                       outcome=Outcome.DENIED, details=_details(request_obj))
    raise RequestRefused(message)


def approve_agent_request(*, request_obj: AgentRequest, membership: Membership,
                          note: str = "") -> AgentRequest:
    """Run the request as `membership` and record the outcome.

    Raises RequestRefused (the request stays pending) when the member may not
    decide it, it isn't pending, its agent was revoked, or the area refuses it
    before sending anything. An upstream failure marks it failed, explained."""
    _refuse_unless_may_decide(request_obj, membership)
    _refuse_unless_agent_may_still_ask(request_obj, membership)
    claimed = _claim(request_obj, membership)
    claimed.decision_note = note.strip()[:2000]
    try:
        result, url = _execute(claimed, membership)
    except (RequestRefused, *NEVER_SENT) as exc:
        message = (exc.message if isinstance(exc, (RequestRefused, GrantDenied))
                   else upstream_error_message(exc))
        _release(claimed, membership, message)
        raise RequestRefused(message) from exc
    except ConstantContactError as exc:
        return _finish(claimed, membership, status=AgentRequest.Status.FAILED,
                       result=upstream_error_message(exc), url="",
                       action="agent.request_failed", outcome=Outcome.FAILURE)
    except Exception as exc:
        # Whatever it was, it may have acted: the request ends failed, never to run
        # again, and the member is told where to look.
        logger.exception("agent request %s stopped on %s", claimed.pk, type(exc).__name__)
        return _finish(claimed, membership, status=AgentRequest.Status.FAILED,
                       result="It stopped on an unexpected error. Check the audit log for "
                              "what reached Constant Contact before asking again.", url="",
                       action="agent.request_failed", outcome=Outcome.FAILURE)
    return _finish(claimed, membership, status=AgentRequest.Status.EXECUTED, result=result,
                   url=url, action="agent.request_approved", outcome=Outcome.SUCCESS)


def _finish(request_obj: AgentRequest, membership: Membership, *, status: str, result: str,
            url: str, action: str, outcome: str) -> AgentRequest:
    request_obj.status, request_obj.result, request_obj.result_url = status, result, url[:300]
    request_obj.last_refusal = ""
    request_obj.save(update_fields=["status", "result", "result_url", "decision_note",
                                    "last_refusal"])
    audit_event_record(action=action, actor=membership.user, workspace=request_obj.workspace,
                       target=request_obj.audit_target, outcome=outcome,
                       details=_details(request_obj))
    return request_obj


# --- running it, as the member ------------------------------------------------------


def _url(name: str, request_obj: AgentRequest, **kwargs) -> str:
    return reverse(name, kwargs={"workspace_slug": request_obj.workspace.slug, **kwargs})


def _mirrored(model, request_obj: AgentRequest, key: str, what: str):
    cc_id = str(request_obj.path_params.get(key) or "")
    row = model.objects.filter(workspace=request_obj.workspace, cc_id=cc_id).first()
    if row is None:
        raise RequestRefused(f"The {what} is no longer in this workspace's copy (deleted "
                             "since?); decline this request.")
    return row


CAMPAIGN_CHANGED = ("The campaign changed since the agent asked; the agent must ask again. "
                    "Decline this request: it can only ever schedule the version it showed.")


def _run_schedule(request_obj: AgentRequest, membership: Membership) -> tuple[str, str]:
    agent = fresh_agent(request_obj.agent)
    try:
        campaign = schedule_campaign(agent, request_obj.path_params)
    except ValueError as exc:
        raise RequestRefused(str(exc)) from exc
    campaign = Campaign.objects.select_related("email", "workspace").get(pk=campaign.pk)
    shown = request_obj.approval_fingerprint or None
    if shown is not None:
        current = approval_current(campaign=campaign)
        if current is not None and current.fingerprint != shown:
            raise RequestRefused(CAMPAIGN_CHANGED)
    cc = gate_for(workspace=request_obj.workspace, actor=Actor.member(membership),
                  interactive=True)
    try:
        # Approving here is the confirmation the schedule screen asks a member to type;
        # the version the request showed is the one the send path may schedule.
        job = send_schedule_request(campaign=campaign, membership=membership, cc=cc,
                                    confirmation=campaign.name, shown_fingerprint=shown)
    except SendRefused as exc:
        current = approval_current(campaign=campaign)
        if shown is not None and current is not None and current.fingerprint != shown:
            raise RequestRefused(CAMPAIGN_CHANGED) from exc  # re-approved meanwhile
        raise RequestRefused(exc.message) from exc
    return (f"Queued the schedule of “{campaign.name}” (send job {job.pk}); the campaign's "
            "page shows Constant Contact's answer.",
            _url("campaigns:campaign_detail", request_obj, campaign_id=campaign.pk))


def _run_contact_delete(request_obj: AgentRequest, membership: Membership) -> tuple[str, str]:
    contact = _mirrored(Contact, request_obj, "contact_id", "contact")
    contact_delete(workspace=request_obj.workspace, membership=membership, contact=contact)
    return (f"Deleted the contact {contact.email or contact.cc_id}.",
            _url("contacts:contact_detail", request_obj, contact_id=contact.pk))


def _run_unsubscribe(request_obj: AgentRequest, membership: Membership) -> tuple[str, str]:
    contact = _mirrored(Contact, request_obj, "contact_id", "contact")
    reason = ((request_obj.body.get("email_address") or {}).get("opt_out_reason") or "")
    try:
        contact_unsubscribe(workspace=request_obj.workspace, membership=membership,
                            contact=contact, reason=str(reason))
    except ContactRefused as exc:
        raise RequestRefused(str(exc)) from exc
    return (f"Unsubscribed {contact.email}.",
            _url("contacts:contact_detail", request_obj, contact_id=contact.pk))


def _run_list_delete(request_obj: AgentRequest, membership: Membership) -> tuple[str, str]:
    row = _mirrored(ContactList, request_obj, "list_id", "list")
    name = row.name
    try:
        gone = list_delete(contact_list=row, membership=membership)
    except DeletePending as exc:
        raise RequestRefused("A delete of this list is already under way.") from exc
    said = ("Deleted the list" if gone else
            "Constant Contact is deleting the list; it leaves the Lists page when done:")
    return f"{said} “{name}”.", _url("contacts:list_index", request_obj)


def _run_segment_delete(request_obj: AgentRequest, membership: Membership) -> tuple[str, str]:
    segment = _mirrored(Segment, request_obj, "segment_id", "segment")
    name = segment.name
    try:
        segment_delete(segment=segment, membership=membership)
    except SegmentInUse as exc:
        names = ", ".join(f"“{c.name}”" for c in exc.campaigns)
        raise RequestRefused("A scheduled campaign sends to this segment"
                             + (f" ({names})" if names else "")
                             + "; unschedule it first, then approve again.") from exc
    return f"Deleted the segment “{name}”.", _url("segments:segment_index", request_obj)


def _run_bulk_removal(request_obj: AgentRequest, membership: Membership) -> tuple[str, str]:
    agent = fresh_agent(request_obj.agent)
    try:
        removal = removal_from_body(agent, request_obj.body)
        removal_within_cap(agent, removal)  # GrantDenied: released, pending, explained
        job = action_start(
            membership=membership, kind=BulkKind.REMOVE_FROM_LISTS,
            selection=removal.selection, targets=[row.cc_id for row in removal.lists],
            # The request's own token: should it ever start twice, the job is found.
            token=f"agentreq{request_obj.pk:08d}",
        )
    except ValueError as exc:
        raise RequestRefused(str(exc)) from exc
    except SelectionProblem as exc:
        raise RequestRefused(exc.message) from exc
    return (f"Started the bulk job “{job.title}”; its page shows the progress.",
            _url("bulk:job_detail", request_obj, job_id=job.pk))


_RUNNERS = {
    SCHEDULE: _run_schedule,
    "contacts.delete": _run_contact_delete,
    "lists.delete": _run_list_delete,
    "segments.delete": _run_segment_delete,
    BULK_REMOVAL: _run_bulk_removal,
    UNSUBSCRIBE: _run_unsubscribe,
}


def _execute(request_obj: AgentRequest, membership: Membership) -> tuple[str, str]:
    """Run it through the area's service as `membership`: (what happened, a URL)."""
    return _RUNNERS[request_obj.endpoint_name](request_obj, membership)
