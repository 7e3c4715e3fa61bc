"""Helpers for the audit log tests: events at chosen times, in chosen places."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.audit.models import AuditEvent, Outcome
from tests.factories import AuditEventFactory

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def make_event(*, action="contact.updated", actor=None, workspace=None, target="",
               outcome=Outcome.SUCCESS, details=None, at=T0) -> AuditEvent:
    return AuditEventFactory(
        occurred_at=at,
        action=action,
        actor=actor,
        workspace=workspace,
        target=target,
        outcome=outcome,
        details=details or {},
    )


@pytest.fixture
def events_url(world):
    return f"/w/{world.workspace.slug}/audit/"


@pytest.fixture
def export_url(world):
    return f"/w/{world.workspace.slug}/audit/export.csv"


@pytest.fixture
def minutes():
    return lambda n: T0 + timedelta(minutes=n)
