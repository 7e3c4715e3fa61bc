"""Reads of agent access: `requests` for the Agent requests inbox, `team` for
Team → Agents (the workspace's agents, their grants, the catalog to choose
their endpoints from and their calls today).

The inbox's reads are named here as well, so `from apps.agents.selectors import
may_see_requests` keeps working as it did when they were this whole module.
"""

from apps.agents.selectors.requests import (
    BULK_REMOVAL,
    HISTORY_PAGE,
    REQUEST_KINDS,
    SCHEDULE,
    UNSUBSCRIBE,
    agent_request_for,
    agent_requests_decided,
    agent_requests_pending,
    agent_requests_pending_count,
    decision_rule,
    grant_needed_label,
    kind_endpoint,
    may_decide,
    may_see_request,
    may_see_requests,
    request_deciders,
    shown_areas,
)

__all__ = [
    "BULK_REMOVAL", "HISTORY_PAGE", "REQUEST_KINDS", "SCHEDULE", "UNSUBSCRIBE",
    "agent_request_for", "agent_requests_decided", "agent_requests_pending",
    "agent_requests_pending_count", "decision_rule", "grant_needed_label", "kind_endpoint",
    "may_decide", "may_see_request", "may_see_requests", "request_deciders", "shown_areas",
]
