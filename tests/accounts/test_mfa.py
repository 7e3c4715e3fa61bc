"""Two-factor authentication: enrolment, the second sign-in step, recovery codes,
and the audit trail each leaves. Codes are computed here the way an
authenticator app would (RFC 6238, via allauth's own HOTP helper)."""

import json
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value

from apps.audit.models import AuditEvent, Outcome
from tests.accounts.test_login import assert_in_our_layout_without_inline_code
from tests.conftest import PASSWORD

TOTP_PERIOD_SECONDS = 30  # allauth's default MFA_TOTP_PERIOD


def totp_now(secret: str, *, steps_ahead: int = 0) -> str:
    # allauth accepts only the current step (MFA_TOTP_TOLERANCE is 0): never hand
    # out a code in its last two seconds, or the test would race the clock.
    left = TOTP_PERIOD_SECONDS - time.time() % TOTP_PERIOD_SECONDS
    if left < 2:
        time.sleep(left + 0.05)
    counter = int(time.time()) // TOTP_PERIOD_SECONDS + steps_ahead
    return format_hotp_value(hotp_value(secret, counter))


def sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def reauthenticate(client):
    """allauth asks for the password again (within 5 minutes) before 2FA changes."""
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302


def activate_totp(client, on_commit) -> str:
    """Enrol the signed-in member's authenticator app; returns its secret."""
    reauthenticate(client)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    # allauth announces the new authenticator once the transaction commits.
    with on_commit(execute=True):
        response = client.post("/accounts/2fa/totp/activate/", {"code": totp_now(secret)})
    assert response.status_code == 302, response.content
    return secret


@pytest.fixture
def enrolled(client, world, django_capture_on_commit_callbacks):
    """The editor, with an authenticator app set up, signed out again."""
    sign_in(client, "editor@example.com")
    secret = activate_totp(client, django_capture_on_commit_callbacks)
    client.post("/accounts/logout/")
    return secret


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def recovery_codes(user) -> list[str]:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return authenticator.wrap().get_unused_codes()


def test_enrolling_an_authenticator_app_is_audited(
    client, world, django_capture_on_commit_callbacks
):
    sign_in(client, "editor@example.com")

    activate_totp(client, django_capture_on_commit_callbacks)

    assert Authenticator.objects.filter(user=world.editor, type=Authenticator.Type.TOTP).exists()
    activated = AuditEvent.objects.get(action="mfa.totp_activated")
    assert activated.actor == world.editor
    assert activated.workspace is None
    assert AuditEvent.objects.filter(action="mfa.recovery_codes_generated").exists()


def test_enrolment_refuses_a_wrong_code(client, world):
    sign_in(client, "editor@example.com")
    reauthenticate(client)
    client.get("/accounts/2fa/totp/activate/")

    response = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})

    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=world.editor).exists()
    assert not AuditEvent.objects.filter(action="mfa.totp_activated").exists()


def test_login_requires_a_code_once_enrolled(client, world, enrolled):
    sign_ins_before = AuditEvent.objects.filter(action="login.succeeded").count()

    response = sign_in(client, "editor@example.com")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not is_signed_in(client)
    assert client.get("/w/acme-marketing/").status_code == 302  # still signed out
    assert AuditEvent.objects.filter(action="login.succeeded").count() == sign_ins_before


def test_login_accepts_a_totp_code_and_is_audited(client, world, enrolled):
    sign_in(client, "editor@example.com")

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_now(enrolled)})

    assert response.status_code == 302
    assert is_signed_in(client)
    event = AuditEvent.objects.filter(action="login.succeeded", actor=world.editor).first()
    assert event.details["methods"] == ["mfa", "password"]
    assert event.details["second_factor"] == "totp"


def test_login_refuses_a_wrong_code_and_audits_it(client, world, enrolled):
    sign_in(client, "editor@example.com")
    wrong = totp_now(enrolled, steps_ahead=10)

    response = client.post("/accounts/2fa/authenticate/", {"code": wrong})

    assert response.status_code == 200
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(action="login.mfa_failed")
    assert event.target == "editor@example.com"
    assert event.outcome == Outcome.FAILURE
    assert wrong not in json.dumps(event.details)


def test_a_totp_code_works_only_once(client, world, enrolled):
    code = totp_now(enrolled)
    sign_in(client, "editor@example.com")
    client.post("/accounts/2fa/authenticate/", {"code": code})
    client.post("/accounts/logout/")

    sign_in(client, "editor@example.com")
    response = client.post("/accounts/2fa/authenticate/", {"code": code})

    assert response.status_code == 200
    assert not is_signed_in(client)


def test_login_with_a_recovery_code_works_once(client, world, enrolled):
    code = recovery_codes(world.editor)[0]

    sign_in(client, "editor@example.com")
    response = client.post("/accounts/2fa/authenticate/", {"code": code})

    assert response.status_code == 302
    assert is_signed_in(client)
    used = AuditEvent.objects.get(action="mfa.recovery_code_used")
    assert used.actor == world.editor
    assert used.details["codes_left"] == len(recovery_codes(world.editor))
    assert code not in recovery_codes(world.editor)

    client.post("/accounts/logout/")
    sign_in(client, "editor@example.com")
    again = client.post("/accounts/2fa/authenticate/", {"code": code})

    assert again.status_code == 200
    assert not is_signed_in(client)


def test_regenerating_recovery_codes_is_audited(
    client, world, enrolled, django_capture_on_commit_callbacks
):
    old_codes = recovery_codes(world.editor)
    sign_in(client, "editor@example.com")
    client.post("/accounts/2fa/authenticate/", {"code": totp_now(enrolled)})
    reauthenticate(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/2fa/recovery-codes/generate/")

    assert response.status_code == 302
    assert set(recovery_codes(world.editor)).isdisjoint(old_codes)
    event = AuditEvent.objects.get(action="mfa.recovery_codes_regenerated")
    assert event.actor == world.editor


def test_deactivating_the_authenticator_app_is_audited(client, world, enrolled):
    sign_in(client, "editor@example.com")
    client.post("/accounts/2fa/authenticate/", {"code": totp_now(enrolled)})
    reauthenticate(client)

    response = client.post("/accounts/2fa/totp/deactivate/")

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=world.editor).exists()
    assert AuditEvent.objects.get(action="mfa.totp_deactivated").actor == world.editor
    assert AuditEvent.objects.filter(action="mfa.recovery_codes_removed").exists()


def test_no_secret_or_code_is_ever_audited(client, world, enrolled):
    codes = recovery_codes(world.editor)
    sign_in(client, "editor@example.com")
    client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    reauthenticate(client)
    client.post("/accounts/2fa/recovery-codes/generate/")

    stored = " ".join(
        f"{e.actor_label} {e.action} {e.target} {json.dumps(e.details)}"
        for e in AuditEvent.objects.all()
    )
    assert enrolled not in stored
    for code in [*codes, *recovery_codes(world.editor)]:
        assert code not in stored


def test_mfa_pages_render_in_our_layout_without_inline_code(client, world, enrolled):
    sign_in(client, "editor@example.com")
    assert_in_our_layout_without_inline_code(client.get("/accounts/2fa/authenticate/"))
    client.post("/accounts/2fa/authenticate/", {"code": totp_now(enrolled)})
    reauthenticate(client)

    for url in [
        "/accounts/reauthenticate/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/deactivate/",
        "/accounts/2fa/recovery-codes/",
        "/accounts/2fa/recovery-codes/generate/",
    ]:
        assert_in_our_layout_without_inline_code(client.get(url))


def test_recovery_codes_download_as_a_file(client, world, enrolled):
    sign_in(client, "editor@example.com")
    client.post("/accounts/2fa/authenticate/", {"code": totp_now(enrolled)})
    reauthenticate(client)

    response = client.get("/accounts/2fa/recovery-codes/download/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "attachment" in response["Content-Disposition"]
    assert recovery_codes(world.editor)[0] in response.content.decode()


def test_activation_page_shows_the_qr_code_without_inline_code(client, world):
    sign_in(client, "viewer@example.com")
    reauthenticate(client)

    response = client.get("/accounts/2fa/totp/activate/")

    assert_in_our_layout_without_inline_code(response)
    assert b'class="qr-code"' in response.content
    assert b"data:image/svg+xml;base64," in response.content
