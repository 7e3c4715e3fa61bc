"""Reads for agent requests: the kinds an agent may ask for and the grant each
needs, who may see and decide them, and the inbox's rows.

Who sees the inbox: a member whose role holds write on some area or the send
capability, since only they could ever decide a request; read-only roles
never see it. Which requests they see in it: only those whose preview shows
nothing their role can't read (`may_see_request`) — a contact's name and
address need read access to Contacts, whatever else the role may write.
Others are absent from the list and the count, and their pages are not found.
Who decides one request: a member who may see it and whose role holds the
grant the request's catalog endpoint needs (its area and access, its
capability, its `also` grants) — the same rule the gate applies to the call
that runs.
"""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.access import AccessRule
from apps.accounts.grants import Access, Area, Capability
from apps.accounts.models import Membership, Role, Workspace
from apps.agents.models import AgentRequest
from apps.constantcontact.catalog import Endpoint, endpoint

UNSUBSCRIBE = "contacts.unsubscribe"
SCHEDULE = "emails.schedule"
BULK_REMOVAL = "activities.remove_list_memberships"

# The kinds of request, each the catalog endpoint whose grant it needs. An
# unsubscribe is a contacts.update that sets permission_to_send to
# "unsubscribed"; it has a kind of its own so the inbox can say so plainly.
REQUEST_KINDS: dict[str, str] = {
    SCHEDULE: "emails.schedule",
    "contacts.delete": "contacts.delete",
    "lists.delete": "lists.delete",
    "segments.delete": "segments.delete",
    BULK_REMOVAL: BULK_REMOVAL,
    UNSUBSCRIBE: "contacts.update",
}
# What each kind's summary and preview show beyond its endpoint's own area: a
# removal names the contacts it touches and the lists they leave.
ALSO_SHOWN: dict[str, tuple[Area, ...]] = {BULK_REMOVAL: (Area.CONTACTS, Area.LISTS)}
HISTORY_PAGE = 50


def kind_endpoint(kind: str) -> Endpoint:
    return endpoint(REQUEST_KINDS[kind])


def decision_rule(kind: str) -> AccessRule:
    entry = kind_endpoint(kind)
    return AccessRule(area=entry.area, access=entry.access, capability=entry.capability,
                      also=entry.also)


def _grant_words(area: Area, access: Access) -> str:
    return f"{access.label.lower()} access to {area.label}"


def grant_needed_label(kind: str) -> str:
    """The grant in words: "write access to Contacts", "read access to Campaigns
    and the send capability"."""
    entry = kind_endpoint(kind)
    parts = [_grant_words(entry.area, entry.access)]
    parts += [_grant_words(area, access) for area, access in entry.also]
    if entry.capability is not None:
        parts.append(f"the {entry.capability.value} capability")
    return " and ".join(parts)


def may_see_requests(role: Role | None) -> bool:
    if role is None:
        return False
    return role.has_capability(Capability.SEND) or any(
        role.allows(area, Access.WRITE) for area in Area)


def shown_areas(kind: str) -> tuple[Area, ...]:
    """The areas whose data a request of `kind` shows."""
    return (kind_endpoint(kind).area, *ALSO_SHOWN.get(kind, ()))


def may_see_request(role: Role | None, kind: str) -> bool:
    """Whether the inbox shows `role` requests of `kind`: it could decide some
    request, and it may read everything this kind's summary and preview show."""
    return (may_see_requests(role) and kind in REQUEST_KINDS
            and all(role.allows(area, Access.READ) for area in shown_areas(kind)))


def may_decide(role: Role | None, kind: str) -> bool:
    return (role is not None and kind in REQUEST_KINDS and decision_rule(kind).allows(role)
            and may_see_request(role, kind))


def visible_kinds(role: Role | None) -> list[str]:
    return [kind for kind in REQUEST_KINDS if may_see_request(role, kind)]


def request_deciders(*, workspace: Workspace, kind: str) -> list:
    """The people who may decide a request of `kind` in `workspace`."""
    memberships = Membership.objects.select_related("user", "role").filter(
        workspace=workspace, user__is_active=True)
    return [m.user for m in memberships if may_decide(m.role, kind)]


def agent_request_for(*, workspace: Workspace, role: Role | None,
                      request_id: int) -> AgentRequest:
    """One request `role` may see; 404 for any other, as for one that isn't there."""
    return get_object_or_404(
        AgentRequest.objects.select_related("workspace", "agent", "decided_by"),
        workspace=workspace, pk=request_id, endpoint_name__in=visible_kinds(role))


def _of(workspace: Workspace, role: Role | None) -> QuerySet[AgentRequest]:
    return AgentRequest.objects.select_related("agent", "decided_by").filter(
        workspace=workspace, endpoint_name__in=visible_kinds(role))


def agent_requests_pending(*, workspace: Workspace, role: Role | None
                           ) -> QuerySet[AgentRequest]:
    """Waiting for a decision (and any one running right now), oldest first: the
    one that has waited longest is at the top."""
    return _of(workspace, role).filter(
        status__in=(AgentRequest.Status.PENDING, AgentRequest.Status.RUNNING)
    ).order_by("created_at", "id")


def agent_requests_decided(*, workspace: Workspace, role: Role | None,
                           page: str | int = 1) -> Page:
    decided = _of(workspace, role).exclude(
        status__in=(AgentRequest.Status.PENDING, AgentRequest.Status.RUNNING)
    ).order_by("-decided_at", "-id")
    return Paginator(decided, HISTORY_PAGE).get_page(page)


def agent_requests_pending_count(*, workspace: Workspace, role: Role | None) -> int:
    return AgentRequest.objects.filter(workspace=workspace, endpoint_name__in=visible_kinds(role),
                                       status=AgentRequest.Status.PENDING).count()
