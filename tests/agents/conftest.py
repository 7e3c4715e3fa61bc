"""A connected workspace with a live simulator, synced once so the mirror holds the
account (tests/contacts/conftest.py), and an agent working on it
(requests_support.py)."""

from tests.agents.requests_support import (  # noqa: F401 — pytest finds fixtures by name
    agent,
    agents_world,
    connected_world,
    run_campaigns_sync,
    run_segments_sync,
    run_sync,
    sim,
    sim_contacts,
    sim_settings,
    spy,
    synced_world,
)
