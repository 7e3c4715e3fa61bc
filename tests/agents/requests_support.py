"""Fixtures and helpers for the agent-request tests: the demo account mirrored
(contacts, lists, campaigns, segments) in a live simulator, an agent owned by
the admin, and a spy counting what reaches the simulator.

    def test_x(agents_world, agent, spy):
        req = propose(agent, "contacts.delete", contact_id=some_contact(agents_world).cc_id)
        approve_agent_request(request_obj=req, membership=agents_world.membership("editor"))
        assert spy.count("DELETE", f"/contacts/{cc_id}") == 1
"""

import pytest

from apps.agents.services.requests import propose_agent_request
from apps.mirror.models import Contact, ContactList, Segment
from tests.campaigns.conftest import run_campaigns_sync  # noqa: F401 — fixtures by name
from tests.campaigns.flow import SimSpy
from tests.contacts.conftest import (  # noqa: F401 — pytest finds fixtures by name
    connected_world,
    run_sync,
    sim,
    sim_contacts,
    sim_settings,
    synced_world,
)
from tests.factories import make_agent
from tests.segments.conftest import run_segments_sync  # noqa: F401


@pytest.fixture
def agents_world(synced_world, run_campaigns_sync, run_segments_sync):
    assert run_campaigns_sync("full").status == "succeeded"
    run_segments_sync()
    return synced_world


@pytest.fixture
def agent(agents_world):
    """An agent of the admin's, with the admin's role, allowed to ask to schedule."""
    agent, _key = make_agent(agents_world.membership("admin"), name="Helper",
                             drafts_only=False)
    return agent


@pytest.fixture
def spy(agents_world):
    spy = SimSpy(agents_world.sim)
    yield spy
    spy.restore()


def propose(agent, kind: str, *, body: dict | None = None, **path_params):
    return propose_agent_request(agent=agent, endpoint_name=kind, path_params=path_params,
                                 params=None, body=body)


def some_contact(world, *, index: int = 0) -> Contact:
    """A contact that is subscribed, on at least one list, not removed."""
    contacts = (Contact.objects.filter(workspace=world.workspace, deleted_upstream__isnull=True,
                                       email_status__in=("explicit", "implicit"))
                .exclude(email="").order_by("pk"))
    return [c for c in contacts if c.lists.exists()][index]


def some_list(world) -> ContactList:
    return (ContactList.objects.filter(workspace=world.workspace, membership_count__gt=0)
            .order_by("name").first())


def some_segment(world) -> Segment:
    return Segment.objects.filter(workspace=world.workspace).order_by("name").first()
