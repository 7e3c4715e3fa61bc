"""Fixtures for the campaigns area.

The contacts area's fixtures are re-exported so every campaigns test can use the
live simulator (`connected_world`, `sim`, `run_sync`, `synced_world`, ...); see
tests/contacts/conftest.py for how they work.
"""

import pytest

from tests.contacts.conftest import (  # noqa: F401 — pytest finds fixtures by name
    ConnectedWorld,
    connect_through_the_simulator,
    connected_world,
    run_sync,
    sim,
    sim_contacts,
    sim_settings,
    synced_world,
)


@pytest.fixture
def run_campaigns_sync(connected_world, django_capture_on_commit_callbacks):
    """run_campaigns_sync(kind="full", who="admin") -> the finished SyncRun.

    Starts a campaigns sync of connected_world's workspace the way the "Sync now"
    button does and runs it at once (Celery is eager in tests; the task is
    enqueued on commit, which this fixture triggers).
    """
    from apps.campaigns.services.sync import campaigns_sync_start

    def run(kind: str = "full", who: str = "admin"):
        with django_capture_on_commit_callbacks(execute=True):
            sync_run, _ = campaigns_sync_start(
                workspace=connected_world.workspace, kind=kind,
                membership=connected_world.membership(who),
            )
        sync_run.refresh_from_db()
        return sync_run

    return run


@pytest.fixture
def campaigns_world(synced_world, run_campaigns_sync) -> ConnectedWorld:
    """synced_world (lists and contacts mirrored) after one full campaigns sync:
    the simulator's seeded campaigns — three sent, one draft — are in the mirror."""
    sync_run = run_campaigns_sync("full")
    assert sync_run.status == "succeeded", sync_run.error
    return synced_world


def campaign_url(world, name: str, **kwargs) -> str:
    """The URL of the campaigns view `name` ("campaign_list", ...) in world's workspace."""
    from django.urls import reverse

    return reverse(f"campaigns:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})


@pytest.fixture
def login(client):
    """login(user) -> the test client, signed in as `user`."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
