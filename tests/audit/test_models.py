"""The audit log is append-only: nothing in the application can change or remove an event."""

import pytest

from apps.audit.models import AuditEvent, AuditLogIsAppendOnly
from apps.audit.services import audit_event_record


@pytest.fixture
def event(world):
    return audit_event_record(
        action="contact.updated", actor=world.admin, workspace=world.workspace
    )


def test_it_refuses_to_save_changes_to_an_event(event):
    event.action = "nothing.happened"

    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "contact.updated"


def test_it_refuses_to_delete_an_event(event):
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_bulk_updates(event):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.bulk_update([event], ["action"])


def test_it_refuses_bulk_deletes(event):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_scrubs_secrets_from_details(world):
    event = audit_event_record(
        action="x.y", actor=world.admin,
        details={"password": "hunter2", "nested": {"code": "123456"}},
    )

    assert "hunter2" not in str(event.details)
    assert "123456" not in str(event.details)
