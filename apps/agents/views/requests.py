"""The Agent requests inbox: what agents asked for, each request's preview, and
the Approve / Decline buttons.

Any member who could ever decide a request sees the inbox, and in it only
the requests whose data their role may read (selectors/requests.py says who);
only those whose role holds the grant a request needs get its buttons, and the services check again on every POST.
Approving runs the request as the approving member (services/requests.py);
what the product refuses is shown and the request stays pending.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.access import workspace_view
from apps.agents.selectors import (
    agent_request_for,
    agent_requests_decided,
    agent_requests_pending,
    may_decide,
    may_see_requests,
)
from apps.agents.services.requests import (
    RequestRefused,
    approve_agent_request,
    decline_agent_request,
)

NOTE_LIMIT = 2000
SHOW_CHOICES = ("all", "pending", "decided")


def _require_inbox(request: HttpRequest) -> None:
    if not may_see_requests(request.role):
        raise PermissionDenied("Your role can't decide agent requests.")


def _agents_url(request: HttpRequest) -> str:
    """Where agents are managed: Team → Agents."""
    return reverse("agents:list", kwargs={"workspace_slug": request.workspace.slug})


@require_GET
@workspace_view()
def request_list(request: HttpRequest) -> HttpResponse:
    _require_inbox(request)
    show = request.GET.get("show", "all")
    if show not in SHOW_CHOICES:
        show = "all"
    pending = list(agent_requests_pending(workspace=request.workspace, role=request.role)) \
        if show != "decided" else []
    history = agent_requests_decided(workspace=request.workspace, role=request.role,
                                     page=request.GET.get("page", 1)) \
        if show != "pending" else None
    return render(request, "agents/requests.html", {
        "show": show, "pending": pending, "history": history,
        "agents_url": _agents_url(request),
        "can_manage_agents": request.role.is_admin,
    })


@require_GET
@workspace_view()
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    _require_inbox(request)
    request_obj = agent_request_for(workspace=request.workspace, role=request.role,
                                    request_id=request_id)
    return render(request, "agents/requests_detail.html", {
        "req": request_obj,
        "can_decide": request_obj.is_pending and may_decide(request.role,
                                                            request_obj.endpoint_name),
        "may_decide_kind": may_decide(request.role, request_obj.endpoint_name),
        "agents_url": _agents_url(request),
    })


def _note(request: HttpRequest) -> str:
    return (request.POST.get("note") or "").strip()[:NOTE_LIMIT]


@require_POST
@workspace_view()
def request_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    """Approve or decline (the form's `decision`); the services check the grant."""
    _require_inbox(request)
    request_obj = agent_request_for(workspace=request.workspace, role=request.role,
                                    request_id=request_id)
    decision = request.POST.get("decision")
    if decision not in ("approve", "decline"):
        messages.error(request, "Choose Approve or Decline.")
        return redirect(request_obj.get_absolute_url())
    try:
        if decision == "decline":
            decline_agent_request(request_obj=request_obj, membership=request.membership,
                                  note=_note(request))
            messages.success(request, "Declined. Nothing was sent to Constant Contact.")
        else:
            done = approve_agent_request(request_obj=request_obj,
                                         membership=request.membership, note=_note(request))
            if done.status == done.Status.EXECUTED:
                messages.success(request, f"Approved. {done.result}")
            else:
                messages.error(request, f"Approved, but it failed: {done.result}")
    except RequestRefused as exc:
        messages.error(request, f"Not {'declined' if decision == 'decline' else 'approved'}: "
                                f"{exc.message}")
    return redirect(request_obj.get_absolute_url())


urlpatterns = [
    path("requests/", request_list, name="request_list"),
    path("requests/<int:request_id>/", request_detail, name="request_detail"),
    path("requests/<int:request_id>/decide/", request_decide, name="request_decide"),
]
