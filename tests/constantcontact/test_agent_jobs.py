"""A job an agent queues acts as the agent in the worker too (agent_jobs.py): the
agent's id rides in a message header and the worker restores the context."""

from types import SimpleNamespace

from apps.accounts.models import Membership
from apps.constantcontact import agent_jobs
from apps.constantcontact.gate import Actor, acting_as_agent, current_agent, gate_for
from tests.factories import make_agent


def editor_agent(world):
    owner = Membership.objects.get(workspace=world.workspace, user=world.editor)
    agent, _ = make_agent(owner, name="Newsletter bot")
    return owner, agent


def test_publishing_inside_an_agents_context_tags_the_message(world):
    _, agent = editor_agent(world)
    headers: dict = {}
    with acting_as_agent(agent):
        agent_jobs._tag_with_agent(headers=headers)
    assert headers == {agent_jobs.HEADER: agent.pk}

    untagged: dict = {}
    agent_jobs._tag_with_agent(headers=untagged)
    assert untagged == {}


def test_the_worker_runs_a_tagged_task_as_the_agent_and_forgets_it_after(world):
    owner, agent = editor_agent(world)
    task = SimpleNamespace(name="bulk.run", request=SimpleNamespace(
        **{agent_jobs.HEADER: agent.pk}))

    agent_jobs._restore_agent(task=task)
    # What a job's own code does: a gate for the member it acts for.
    cc = gate_for(workspace=world.workspace, actor=Actor.job("bulk.run", on_behalf_of=owner))
    assert cc.actor.agent == agent
    assert cc.actor.job_name == "bulk.run"
    assert cc.actor.label_for(world.editor) == (
        "agent Newsletter bot (owner editor@example.com) (job bulk.run)"
    )

    agent_jobs._forget_agent(task=task)
    assert current_agent() is None
    cc = gate_for(workspace=world.workspace, actor=Actor.job("bulk.run", on_behalf_of=owner))
    assert cc.actor.agent is None


def test_a_header_in_the_request_headers_is_found_too(world):
    _, agent = editor_agent(world)
    task = SimpleNamespace(name="x", request=SimpleNamespace(
        headers={agent_jobs.HEADER: str(agent.pk)}))
    agent_jobs._restore_agent(task=task)
    try:
        assert current_agent() == agent
    finally:
        agent_jobs._forget_agent(task=task)
    assert current_agent() is None


def test_an_untagged_task_runs_as_whoever_it_names(world):
    task = SimpleNamespace(name="x", request=SimpleNamespace())
    agent_jobs._restore_agent(task=task)
    assert current_agent() is None
    agent_jobs._forget_agent(task=task)
