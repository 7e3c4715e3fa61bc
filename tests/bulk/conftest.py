"""Fixtures for the bulk area: the contacts area's simulator world (a seeded
simulator in a thread, the workspace connected through OAuth, a full sync), a
simulated clock for the engine's waits, and helpers to run a job the way the
worker does (Celery is eager in tests: a job queued on commit runs in place).

    def test_it_imports(synced_world, fast_waits, csv_bytes): ...
"""

import pytest

from tests.contacts.conftest import (  # noqa: F401  (fixtures, re-exported)
    connected_world,
    run_sync,
    sim,
    sim_contacts,
    sim_settings,
    synced_world,
)


@pytest.fixture
def fast_waits(monkeypatch, sim):  # noqa: F811 (the fixture imported above)
    """The engine's pauses move the simulator's clock instead of sleeping, so an
    activity that takes minutes upstream finishes in a blink here."""
    from apps.bulk.services import engine

    waited: list[float] = []

    def pause(seconds: float) -> None:
        waited.append(seconds)
        sim.advance(max(seconds, 1.0))

    monkeypatch.setattr(engine, "pause", pause)
    return waited


@pytest.fixture
def bulk_settings(settings):
    settings.CCADMIN_BULK_CHUNK_ROWS = 10
    settings.CCADMIN_BULK_RECONCILE_SECONDS = 0
    return settings


def make_csv(rows: list[tuple], header=("Email", "First name", "Last name")) -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def sim_activities(world, kind: str) -> list[dict]:
    with world.sim.state.lock:
        return [dict(a) for a in world.sim.state.activities.values() if a["kind"] == kind]


def sim_emails(world) -> set[str]:
    with world.sim.state.lock:
        return {(c.get("email_address") or {}).get("address", "").lower()
                for c in world.sim.state.contacts.values() if not c.get("deleted_at")}
