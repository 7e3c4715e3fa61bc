"""Signing in and out, lockout, passwords — and the audit trail each leaves."""

import json
import re

import pytest
from django.core import mail

from apps.audit.models import AuditEvent, Outcome
from apps.audit.receivers import UNKNOWN_ACCOUNT
from tests.conftest import PASSWORD

LOGIN_URL = "/accounts/login/"
WRONG_PASSWORD = "Tr0ub4dor&3-not-it"


def _sign_in(client, email, password=PASSWORD):
    return client.post(LOGIN_URL, {"login": email, "password": password})


def _is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _everything_stored(event: AuditEvent) -> str:
    return " ".join(
        [event.actor_label, event.action, event.target, event.outcome, json.dumps(event.details)]
    )


def test_login_succeeds_and_is_audited(client, world):
    response = _sign_in(client, "admin@example.com")

    assert response.status_code == 302
    assert _is_signed_in(client)
    event = AuditEvent.objects.get(action="login.succeeded")
    assert event.actor == world.admin
    assert event.workspace is None
    assert event.outcome == Outcome.SUCCESS
    assert event.details["methods"] == ["password"]
    assert event.details["ip"] == "127.0.0.1"


def test_email_address_is_matched_case_insensitively(client, world):
    _sign_in(client, "Admin@Example.COM")

    assert _is_signed_in(client)


def test_failed_login_is_audited_without_the_password(client, world):
    response = _sign_in(client, "editor@example.com", WRONG_PASSWORD)

    assert response.status_code == 200
    assert not _is_signed_in(client)
    event = AuditEvent.objects.get(action="login.failed")
    assert event.actor is None
    assert event.target == "editor@example.com"
    assert event.outcome == Outcome.FAILURE
    assert event.details["reason"] == "invalid_credentials"
    for stored in AuditEvent.objects.all():
        assert WRONG_PASSWORD not in _everything_stored(stored)
        assert PASSWORD not in _everything_stored(stored)


def test_failed_login_for_an_unknown_address_names_no_account(client, world):
    _sign_in(client, "stranger@example.net", WRONG_PASSWORD)

    event = AuditEvent.objects.get(action="login.failed")
    assert event.target == UNKNOWN_ACCOUNT
    assert "stranger@example.net" not in _everything_stored(event)


def test_failed_login_of_a_deactivated_member_says_so(client, world):
    world.viewer.is_active = False
    world.viewer.save()

    _sign_in(client, "viewer@example.com")

    assert not _is_signed_in(client)
    event = AuditEvent.objects.get(action="login.failed")
    assert event.target == "viewer@example.com"
    assert event.details["reason"] == "account_inactive"


def test_lockout_refuses_the_right_password_after_five_failures(client, world):
    for _ in range(5):
        _sign_in(client, "editor@example.com", WRONG_PASSWORD)

    response = _sign_in(client, "editor@example.com")

    assert response.status_code == 200
    assert not _is_signed_in(client)
    assert b"Too many failed login attempts" in response.content
    # The five failures were audited one by one; the refused sixth never reached
    # the password check, so it is not a sixth "login.failed".
    assert AuditEvent.objects.filter(action="login.failed").count() == 5


def test_lockout_is_per_address(client, world):
    for _ in range(5):
        _sign_in(client, "editor@example.com", WRONG_PASSWORD)

    _sign_in(client, "approver@example.com")

    assert _is_signed_in(client)


def test_lockout_is_audited(client, world):
    for _ in range(5):
        _sign_in(client, "editor@example.com", WRONG_PASSWORD)

    _sign_in(client, "editor@example.com")
    _sign_in(client, "editor@example.com")

    event = AuditEvent.objects.get(action="login.locked_out")  # once, not per attempt
    assert event.target == "editor@example.com"
    assert event.outcome == Outcome.DENIED
    assert event.details["reason"] == "too_many_failed_attempts"
    assert PASSWORD not in _everything_stored(event)


def test_logout_is_audited(client, world):
    _sign_in(client, "viewer@example.com")

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert not _is_signed_in(client)
    event = AuditEvent.objects.get(action="logout")
    assert event.actor == world.viewer


def test_password_change_is_audited(client, world):
    _sign_in(client, "viewer@example.com")
    new_password = "a brand new passphrase 42"

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="password.changed")
    assert event.actor == world.viewer
    assert new_password not in _everything_stored(event)
    assert PASSWORD not in _everything_stored(event)


def test_password_reset_is_audited(client, world):
    client.post("/accounts/password/reset/", {"email": "viewer@example.com"})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    form_url = client.get(link.group(1))["Location"]
    new_password = "another fresh passphrase 77"

    response = client.post(form_url, {"password1": new_password, "password2": new_password})

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="password.reset")
    assert event.actor == world.viewer
    assert event.target == "viewer@example.com"
    token = link.group(1).rstrip("/").rsplit("/", 1)[-1]
    for stored in AuditEvent.objects.all():
        assert token not in _everything_stored(stored)
        assert new_password not in _everything_stored(stored)


def test_login_page_offers_no_sign_up(client, db):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    assert b"/accounts/signup/" not in response.content
    assert b"sign up" not in response.content.lower()


def test_sign_up_is_closed(client, db):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "x" * 16, "password2": "x" * 16},
    )

    assert b"Sign Up Closed" in response.content
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()


INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(rb"\s(on[a-z]+|style|hx-on[:\w-]*)\s*=", re.IGNORECASE)


def assert_in_our_layout_without_inline_code(response):
    assert response.status_code == 200
    assert b"/static/css/app.css" in response.content
    assert not INLINE_SCRIPT.search(response.content)
    assert not INLINE_HANDLER.search(response.content)


@pytest.mark.parametrize(
    "url",
    ["/accounts/login/", "/accounts/password/reset/", "/accounts/password/reset/done/",
     "/accounts/signup/"],
)
def test_sign_in_pages_render_in_our_layout_without_inline_code(client, db, url):
    assert_in_our_layout_without_inline_code(client.get(url))


@pytest.mark.parametrize(
    "url", ["/accounts/password/change/", "/accounts/logout/", "/accounts/2fa/"]
)
def test_account_pages_render_in_our_layout_without_inline_code(client, world, url):
    _sign_in(client, "viewer@example.com")

    assert_in_our_layout_without_inline_code(client.get(url))


def test_password_reset_pages_render_in_our_layout(client, world):
    client.post("/accounts/password/reset/", {"email": "viewer@example.com"})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    form_url = client.get(link.group(1))["Location"]

    assert_in_our_layout_without_inline_code(client.get(form_url))
    new_password = "another fresh pass 77"
    client.post(form_url, {"password1": new_password, "password2": new_password})
    assert_in_our_layout_without_inline_code(client.get("/accounts/password/reset/key/done/"))
    assert_in_our_layout_without_inline_code(client.get(link.group(1).replace("-", "-x", 1)))
