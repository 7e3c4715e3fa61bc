"""Reads for Team → Agents: the workspace's agents, what each may really do, the
catalog its allowed endpoints are chosen from, and its calls today against its
share of the daily quota."""

from collections.abc import Iterable
from dataclasses import dataclass
import logging

from django.shortcuts import get_object_or_404
from redis.exceptions import RedisError

from apps.accounts.grants import Area, Capability
from apps.accounts.models import Agent, Membership, Workspace
from apps.constantcontact.agent_caps import budget_member_key, daily_call_cap, is_live_effect
from apps.constantcontact.catalog import ENDPOINTS
from apps.constantcontact.ratelimit import api_budget

logger = logging.getLogger(__name__)

# [(area label, [(endpoint name, what a person reads), ...]), ...] in catalog order.
EndpointGroups = list[tuple[str, list[tuple[str, str]]]]


def workspace_agents(*, workspace: Workspace) -> list[Agent]:
    return list(
        Agent.objects.filter(workspace=workspace)
        .select_related("role", "owner__user", "owner__role").order_by("name")
    )


def agent_in_workspace(*, workspace: Workspace, agent_id: int) -> Agent:
    """The workspace's agent `agent_id`; 404 for any other workspace's."""
    return get_object_or_404(
        Agent.objects.select_related("workspace", "role", "owner__user", "owner__role"),
        pk=agent_id, workspace=workspace,
    )


def agent_name_taken(*, workspace: Workspace, name: str, agent: Agent | None = None) -> bool:
    clash = Agent.objects.filter(workspace=workspace, name__iexact=name.strip())
    if agent is not None:
        clash = clash.exclude(pk=agent.pk)
    return clash.exists()


def possible_owners(*, workspace: Workspace):
    """Members who may own an agent: active people of this workspace."""
    return (
        Membership.objects.filter(workspace=workspace, user__is_active=True)
        .select_related("user").order_by("user__full_name", "user__email")
    )


@dataclass(frozen=True)
class GrantRow:
    """One area or capability: what the agent's role says, what its owner holds,
    and what the agent really gets (the lower of the two)."""

    label: str
    role_says: str
    owner_holds: str
    effective: str
    capped: bool  # the owner holds less than the agent's role grants

    @property
    def effective_words(self) -> str:
        return f"{self.effective}, capped by owner's role" if self.capped else self.effective


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def effective_grants(agent: Agent) -> list[GrantRow]:
    rows = []
    for area in Area:
        role_says, owner_holds = agent.role.access_for(area), agent.owner.role.access_for(area)
        rows.append(GrantRow(
            label=area.label, role_says=role_says.label, owner_holds=owner_holds.label,
            effective=agent.access_for(area).label, capped=owner_holds < role_says,
        ))
    for capability, label in ((Capability.APPROVE, "Approve campaigns"),
                              (Capability.SEND, "Send (schedule)")):
        role_has = agent.role.has_capability(capability)
        owner_has = agent.owner.role.has_capability(capability)
        rows.append(GrantRow(
            label=label, role_says=_yes_no(role_has), owner_holds=_yes_no(owner_has),
            effective=_yes_no(agent.has_capability(capability)), capped=role_has and not owner_has,
        ))
    return rows


def capped_areas(agent: Agent) -> list[str]:
    return [row.label for row in effective_grants(agent) if row.capped]


# --- The catalog, to choose an agent's allowed endpoints from -------------------------

def endpoint_groups() -> EndpointGroups:
    groups: dict[Area, list[tuple[str, str]]] = {}
    for entry in ENDPOINTS:
        label = f"{entry.name} · {entry.method} {entry.path}"
        if is_live_effect(entry):
            label += " (only with a member's approval)"
        groups.setdefault(entry.area, []).append((entry.name, label))
    return [(area.label, groups[area]) for area in Area if area in groups]


def endpoint_names() -> set[str]:
    return {entry.name for entry in ENDPOINTS}


# --- Each agent's calls today ---------------------------------------------------------

@dataclass(frozen=True)
class AgentUsage:
    calls_today: int
    cap: int  # calls: its share of today's quota

    @property
    def at_cap(self) -> bool:
        return self.calls_today >= self.cap


def agent_usage(agents: Iterable[Agent]) -> dict[int, AgentUsage] | None:
    """Each agent's calls today and its cap, by agent id; None when Redis can't be read."""
    try:
        budget = api_budget()
        return {
            agent.pk: AgentUsage(
                calls_today=budget.member_calls_today(budget_member_key(agent)),
                cap=daily_call_cap(agent, budget.quota),
            )
            for agent in agents
        }
    except RedisError:
        logger.warning("Could not read the agents' calls today: Redis failed")
        return None
