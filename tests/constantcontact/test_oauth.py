"""Connecting a workspace: authorize URL with state and PKCE, code exchange,
tokens stored, the account named."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.accounts.models import Membership
from apps.audit.models import AuditEvent
from apps.constantcontact import oauth, tokens
from apps.constantcontact.errors import GrantDenied, OAuthError
from apps.constantcontact.models import Connection
from apps.constantcontact.services import connection_for
from tests.constantcontact.conftest import API, AUTH, TOKEN_URL, token_payload


def membership(world, name: str) -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=world.user(name))


def test_the_authorize_url_asks_for_a_code_with_state_and_pkce(settings):
    url, state, verifier = oauth.oauth_start()
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{AUTH}/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == "test-client"
    assert query["redirect_uri"] == settings.CC_REDIRECT_URI
    assert query["scope"] == "account_read account_update contact_data campaign_data offline_access"
    assert "%20" in parts.query and "+" not in parts.query
    assert query["state"] == state and len(state) >= 43
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == expected.decode()
    assert query["code_challenge_method"] == "S256"


def test_every_attempt_gets_a_new_state_and_verifier():
    first, second = oauth.oauth_start(), oauth.oauth_start()
    assert first[1] != second[1] and first[2] != second[2]


def test_state_is_compared_exactly():
    assert oauth.oauth_state_matches(expected="abc", received="abc")
    assert not oauth.oauth_state_matches(expected="abc", received="abd")
    assert not oauth.oauth_state_matches(expected=None, received="abc")
    assert not oauth.oauth_state_matches(expected="", received="")


def test_completing_stores_the_tokens_and_names_the_account(world, mocked, settings):
    mocked.post(TOKEN_URL, json=token_payload(1))
    mocked.get(f"{API}/account/summary", json={
        "encoded_account_id": "a07e1abc", "organization_name": "Acme Bakery",
        "contact_email": "owner@acme.example", "first_name": "Ann"})
    connection = connection_for(workspace=world.workspace)

    oauth.oauth_complete(connection=connection, code="the-code", verifier="v" * 43,
                         actor=membership(world, "admin"))

    form = parse_qs(mocked.calls[0].request.body)
    assert form == {"grant_type": ["authorization_code"], "code": ["the-code"],
                    "redirect_uri": [settings.CC_REDIRECT_URI], "code_verifier": ["v" * 43]}
    assert mocked.calls[0].request.headers["Authorization"].startswith("Basic ")
    connection = Connection.objects.get(pk=connection.pk)
    assert connection.status == Connection.Status.CONNECTED
    assert connection.connected_by == world.admin
    assert connection.scopes >= {"contact_data", "campaign_data", "account_read"}
    assert tokens.read_access_token(connection) == "access-1"
    assert (connection.account_id, connection.account_name, connection.account_email) == (
        "a07e1abc", "Acme Bakery", "owner@acme.example")
    assert AuditEvent.objects.filter(action="cc.connection.connect", outcome="success").exists()
    assert AuditEvent.objects.filter(action="cc.account.summary_get").exists()


def test_only_an_admin_can_connect(world, mocked):
    connection = connection_for(workspace=world.workspace)
    with pytest.raises(GrantDenied):
        oauth.oauth_complete(connection=connection, code="c", verifier="v" * 43,
                             actor=membership(world, "editor"))
    assert len(mocked.calls) == 0


def test_a_bad_code_is_an_oauth_error_not_a_dead_grant(world, mocked):
    mocked.post(TOKEN_URL, status=400, json={
        "error": "invalid_grant", "error_description": "The authorization code is invalid."})
    connection = connection_for(workspace=world.workspace)
    with pytest.raises(OAuthError):
        oauth.oauth_complete(connection=connection, code="old", verifier="v" * 43,
                             actor=membership(world, "admin"))
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.NOT_CONNECTED
    assert AuditEvent.objects.filter(action="cc.connection.connect", outcome="failure").exists()


def test_a_grant_without_a_refresh_token_is_refused(world, mocked):
    mocked.post(TOKEN_URL, json={"access_token": "a", "expires_in": 86400, "scope": "contact_data"})
    with pytest.raises(OAuthError):
        oauth.oauth_complete(connection=connection_for(workspace=world.workspace), code="c",
                             verifier="v" * 43, actor=membership(world, "admin"))


def test_disconnecting_forgets_the_tokens_and_asks_for_revocation(world, mocked, connection):
    mocked.post(f"{AUTH}/revoke", status=200)
    oauth.oauth_disconnect(connection=connection, actor=membership(world, "admin"))
    connection = Connection.objects.get(pk=connection.pk)
    assert connection.status == Connection.Status.NOT_CONNECTED
    assert connection.access_token_ciphertext == connection.refresh_token_ciphertext == ""
    assert parse_qs(mocked.calls[0].request.body)["token"] == ["refresh-1"]
    assert AuditEvent.objects.filter(action="cc.connection.disconnect").exists()


def test_reconnecting_to_another_account_is_flagged(world, mocked, connection):
    connection.account_id = "old-account"
    connection.save()
    mocked.post(TOKEN_URL, json=token_payload(2))
    mocked.get(f"{API}/account/summary", json={"encoded_account_id": "new-account"})
    oauth.oauth_complete(connection=connection, code="c", verifier="v" * 43,
                         actor=membership(world, "admin"))
    event = AuditEvent.objects.get(action="cc.connection.account_changed")
    assert event.details == {"from": "old-account", "to": "new-account"}
