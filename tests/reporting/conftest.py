"""Fixtures for the reporting area: the live simulator (tests/contacts/conftest.py
says how it works), its sent campaigns mirrored by a campaigns sync, and a
reports refresh run the way beat or "Refresh now" runs it."""

from django.urls import reverse
import pytest

from tests.campaigns.conftest import campaigns_world, run_campaigns_sync  # noqa: F401
from tests.contacts.conftest import (  # noqa: F401 — pytest finds fixtures by name
    ConnectedWorld,
    connected_world,
    run_sync,
    sim,
    sim_contacts,
    sim_settings,
    synced_world,
)


@pytest.fixture
def run_reports_refresh(connected_world, django_capture_on_commit_callbacks):
    """run_reports_refresh(who="admin") -> the finished SyncRun of a reports refresh."""
    from apps.reporting.services.refresh import reports_refresh_start

    def run(who: str = "admin"):
        with django_capture_on_commit_callbacks(execute=True):
            sync_run, _ = reports_refresh_start(workspace=connected_world.workspace,
                                                membership=connected_world.membership(who))
        sync_run.refresh_from_db()
        return sync_run

    return run


@pytest.fixture
def reports_world(campaigns_world, run_reports_refresh) -> ConnectedWorld:
    """campaigns_world after one reports refresh: every sent campaign's report cached."""
    sync_run = run_reports_refresh()
    assert sync_run.status == "succeeded", sync_run.error
    return campaigns_world


def reports_url(world, name: str, **kwargs) -> str:
    return reverse(f"reporting:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})
