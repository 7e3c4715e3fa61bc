"""Team → Agents: the workspace's AI agents and scripts, their caps and their keys.

Admins only, like the rest of Team, and beside it under /w/<slug>/team/agents/
(namespace `agents`: `list`, `create`, `detail`, `rotate`, `revoke`). A key is
shown exactly once: in the answer to the POST that made it (create, rotate). No
GET can show it again, and only its hash is kept, so a lost key is replaced by
rotating.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.access import workspace_view
from apps.accounts.agents import agent_create, agent_revoke, agent_rotate_key, agent_update
from apps.accounts.grants import Access, Area
from apps.accounts.models import Agent
from apps.agents.forms import AgentCapsForm, AgentCreateForm
from apps.agents.selectors.team import (
    agent_in_workspace,
    agent_usage,
    capped_areas,
    effective_grants,
    workspace_agents,
)
from apps.core.htmx import HtmxHttpRequest

# Where the streamable HTTP transport of the MCP server answers (issue 13).
MCP_PATH = "/mcp/"


def _key_page(request: HtmxHttpRequest, agent: Agent, raw_key: str, *, rotated: bool):
    """The one page that ever shows this key. Not cached anywhere, and shown in
    answer to a POST: reloading it asks to resubmit rather than showing it again."""
    response = render(request, "agents/team_key.html", {
        "agent": agent, "raw_key": raw_key, "rotated": rotated,
        "mcp_url": request.build_absolute_uri(MCP_PATH),
    })
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@workspace_view(Area.ACCOUNT, Access.WRITE)
def agent_list(request: HtmxHttpRequest) -> HttpResponse:
    agents = workspace_agents(workspace=request.workspace)
    usage = agent_usage(agents)
    rows = [{
        "agent": agent,
        "usage": usage.get(agent.pk) if usage is not None else None,
        "capped": capped_areas(agent),
    } for agent in agents]
    return render(request, "agents/team_list.html",
                  {"rows": rows, "usage_known": usage is not None})


@never_cache
@require_http_methods(["GET", "POST"])
@workspace_view(Area.ACCOUNT, Access.WRITE)
def agent_new(request: HtmxHttpRequest) -> HttpResponse:
    form = AgentCreateForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            agent, raw_key = agent_create(
                workspace=request.workspace, name=form.cleaned_data["name"],
                owner=form.cleaned_data["owner"], role=form.cleaned_data["role"],
                actor=request.user, **form.caps(),
            )
        except ValidationError as error:  # lost a race for the name, or the owner left
            form.add_error(None, error)
        else:
            return _key_page(request, agent, raw_key, rotated=False)
    return render(request, "agents/team_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@workspace_view(Area.ACCOUNT, Access.WRITE)
def agent_detail(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = agent_in_workspace(workspace=request.workspace, agent_id=agent_id)
    form = AgentCapsForm(request.POST or None, workspace=request.workspace, agent=agent)
    if request.method == "POST" and form.is_valid():
        try:
            changed = agent_update(agent=agent, actor=request.user,
                                   role=form.cleaned_data["role"], **form.caps())
        except ValidationError as error:
            form.add_error(None, error)
            agent.refresh_from_db()
        else:
            messages.success(request, f"Agent “{agent.name}” saved." if changed
                             else "Nothing changed.")
            return redirect("agents:detail", workspace_slug=request.workspace.slug,
                            agent_id=agent.pk)
    usage = agent_usage([agent])
    return render(request, "agents/team_detail.html", {
        "agent": agent, "form": form, "grants": effective_grants(agent),
        "capped": capped_areas(agent),
        "usage": usage.get(agent.pk) if usage is not None else None,
    })


@never_cache
@require_POST
@workspace_view(Area.ACCOUNT, Access.WRITE)
def agent_rotate(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = agent_in_workspace(workspace=request.workspace, agent_id=agent_id)
    raw_key = agent_rotate_key(agent=agent, actor=request.user)
    return _key_page(request, agent, raw_key, rotated=True)


@require_POST
@workspace_view(Area.ACCOUNT, Access.WRITE)
def agent_revoke_view(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = agent_in_workspace(workspace=request.workspace, agent_id=agent_id)
    if agent.is_revoked:
        messages.info(request, f"Agent “{agent.name}” was already revoked.")
    else:
        agent_revoke(agent=agent, actor=request.user)
        messages.success(request, f"Agent “{agent.name}” is revoked: every call with its key "
                         "is refused from now on. Rotate its key to let it work again.")
    return redirect("agents:detail", workspace_slug=request.workspace.slug,
                    agent_id=agent.pk)


urlpatterns = [
    path("", agent_list, name="list"),
    path("new/", agent_new, name="create"),
    path("<int:agent_id>/", agent_detail, name="detail"),
    path("<int:agent_id>/rotate/", agent_rotate, name="rotate"),
    path("<int:agent_id>/revoke/", agent_revoke_view, name="revoke"),
]
