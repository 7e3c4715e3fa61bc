"""Whatever an agent starts keeps acting as that agent, in the worker too.

Inside `acting_as_agent` the gate acts as the agent, but a service may queue a
Celery job (a bulk job, a test send), and the worker that runs it knows nothing
of the context it was queued in: the job would call Constant Contact as the
owner, past the agent's caps. So the agent's id travels in a message header
and the worker restores the context around the task. (Eager tasks, the tests'
mode, run in place, inside the context already.)
"""

import logging

from celery.signals import before_task_publish, task_postrun, task_prerun

from apps.accounts.models import Agent
from apps.constantcontact.gate import current_agent, enter_agent_context, leave_agent_context

logger = logging.getLogger(__name__)

HEADER = "ccadmin_agent_id"


@before_task_publish.connect
def _tag_with_agent(headers=None, **kwargs) -> None:
    agent = current_agent()
    if agent is not None and headers is not None:
        headers[HEADER] = agent.pk


def _agent_id(task) -> int | None:
    request = task.request
    value = getattr(request, HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(HEADER)
    return int(value) if value is not None else None


@task_prerun.connect
def _restore_agent(task=None, **kwargs) -> None:
    agent_id = _agent_id(task) if task is not None else None
    if agent_id is None:
        return
    agent = Agent.objects.select_related("owner__user", "owner__role", "role").filter(
        pk=agent_id
    ).first()
    if agent is None:
        # Gone with its owner's membership (CASCADE): the job's member is gone too,
        # so the gate refuses its calls as not_a_member.
        logger.warning("Task %s was queued by agent %s, which no longer exists", task.name,
                       agent_id)
        return
    task.request.ccadmin_agent_token = enter_agent_context(agent)


@task_postrun.connect
def _forget_agent(task=None, **kwargs) -> None:
    token = getattr(task.request, "ccadmin_agent_token", None) if task is not None else None
    if token is not None:
        leave_agent_context(token)
        task.request.ccadmin_agent_token = None
