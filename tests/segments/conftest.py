"""Fixtures for the segments area.

The contacts area's fixtures are re-exported (a live simulator per test, the
workspace connected to it: see tests/contacts/conftest.py). `segments_world` is
the demo account mirrored: contacts, lists, tags and custom fields, campaigns,
and the three seeded segments.
"""

import pytest
from django.urls import reverse

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
def sim_contacts() -> int:  # noqa: F811 — a bigger demo account, so counts mean something
    return 120


def run_scope_sync(connected_world, capture, start, kind="full", who="admin"):
    with capture(execute=True):
        sync_run, _ = start(workspace=connected_world.workspace, kind=kind,
                            membership=connected_world.membership(who))
    sync_run.refresh_from_db()
    assert sync_run.status == "succeeded", sync_run.error
    return sync_run


@pytest.fixture
def run_segments_sync(connected_world, django_capture_on_commit_callbacks):
    from apps.segments.services.sync import segments_sync_start

    def run(kind: str = "full", who: str = "admin"):
        return run_scope_sync(connected_world, django_capture_on_commit_callbacks,
                              segments_sync_start, kind, who)

    return run


@pytest.fixture
def segments_world(synced_world, run_segments_sync, django_capture_on_commit_callbacks):
    from apps.campaigns.services.sync import campaigns_sync_start

    run_scope_sync(synced_world, django_capture_on_commit_callbacks, campaigns_sync_start)
    run_segments_sync()
    return synced_world


def segments_url(world, name: str, **kwargs) -> str:
    return reverse(f"segments:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})
