"""The audit row never depends on Redis: when the usage counters fail after a call,
the call's answer and its audit event stand, and the failure is only logged."""

import logging

import pytest
import redis

from apps.audit.models import AuditEvent
from apps.constantcontact.errors import GrantDenied, NotFound
from apps.constantcontact.ratelimit import ApiBudget
from tests.constantcontact.conftest import API
from tests.constantcontact.test_gate import CONTACT_ID, cc_as


def fail(*args, **kwargs):
    raise redis.ConnectionError("Redis went away")


@pytest.fixture
def counters_down(monkeypatch):
    """Redis fails when the gate counts a call, after the call was made."""
    monkeypatch.setattr(ApiBudget, "record_call", fail)


@pytest.fixture
def notes_down(monkeypatch):
    """Redis fails when the gate counts a refusal."""
    monkeypatch.setattr(ApiBudget, "note", fail)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_an_allowed_call_returns_its_answer_and_is_audited(world, connection, mocked,
                                                            counters_down, caplog):
    mocked.get(f"{API}/contacts/{CONTACT_ID}", json={"contact_id": CONTACT_ID})

    with caplog.at_level(logging.WARNING, logger="apps.constantcontact.gate"):
        result = cc_as(world, "viewer").call("contacts.get", contact_id=CONTACT_ID)

    assert result.data == {"contact_id": CONTACT_ID}
    [event] = events("cc.contacts.get")
    assert (event.outcome, event.details["status"]) == ("success", 200)
    assert "Usage counters not updated after contacts.get" in caplog.text


def test_a_failed_call_raises_its_own_error_and_is_audited(world, connection, mocked,
                                                           counters_down):
    mocked.get(f"{API}/contacts/{CONTACT_ID}", status=404,
               json=[{"error_key": "contacts.api.not_found", "error_message": "Not found"}])

    with pytest.raises(NotFound):
        cc_as(world, "viewer").call("contacts.get", contact_id=CONTACT_ID)

    [event] = events("cc.contacts.get")
    assert event.outcome == "failure"


def test_a_refused_call_raises_the_refusal_and_is_audited(world, connection, mocked,
                                                          notes_down):
    with pytest.raises(GrantDenied):
        cc_as(world, "viewer").call("contacts.create",
                                    json={"email_address": {"address": "x@example.com"}})

    [event] = events("cc.contacts.create")
    assert event.outcome == "denied"
    assert len(mocked.calls) == 0
