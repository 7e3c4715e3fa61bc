"""Sign-in auditing pieces that the login tests cannot reach on their own."""

from django.test import RequestFactory

from apps.accounts.events import login_locked_out
from apps.audit.models import AuditEvent, Outcome
from apps.audit.receivers import UNKNOWN_ACCOUNT


def _request():
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.9")


def record_login_locked_out(*, request, login: str) -> None:
    login_locked_out.send(sender=None, request=request, login=login)


def test_a_lockout_is_recorded_once_a_minute_per_address(world):
    for _ in range(3):
        record_login_locked_out(request=_request(), login="Editor@Example.com")

    event = AuditEvent.objects.get(action="login.locked_out")
    assert event.target == "editor@example.com"
    assert event.outcome == Outcome.DENIED
    assert event.workspace is None
    assert event.details == {"reason": "too_many_failed_attempts", "ip": "203.0.113.9"}


def test_a_lockout_of_an_unknown_address_names_no_account(world):
    record_login_locked_out(request=_request(), login="'; select 1; --@nowhere")

    event = AuditEvent.objects.get(action="login.locked_out")
    assert event.target == UNKNOWN_ACCOUNT
    assert "nowhere" not in str(event.details)


def test_logging_out_a_visitor_who_was_never_signed_in_records_nothing(client, db):
    client.post("/accounts/logout/")

    assert not AuditEvent.objects.filter(action="logout").exists()
