"""The connection screen: connecting through the real simulator (consent and back),
the callback's refusals, disconnecting, and who may see and do what."""

import time
from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib.messages import get_messages
from django.urls import reverse
import pytest
import requests

from apps.accounts.models import Membership
from apps.audit.models import AuditEvent
from apps.constantcontact import tokens
from apps.constantcontact.models import Connection
from apps.constantcontact.views import ATTEMPT_TTL_SECONDS, SESSION_KEY
from ccadmin import settings as base_settings
from tests.constantcontact.conftest import AUTH, connect
from tests.upstream_settings import point_at_simulator

ccsim = pytest.importorskip("ccsim")

CLIENT_ID = "ccadmin-views-test"
CLIENT_SECRET = "views-test-secret"
REDIRECT_URI = "http://testserver/oauth/constantcontact/callback/"


@pytest.fixture(scope="module")
def sim():
    # The test client's host is "testserver", so the simulator must know a client
    # whose registered redirect URI is the callback there.
    server = ccsim.start_in_thread(
        port=0, auto_approve=True, clients=[(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)],
        rate_per_second=0, token_rate_per_second=0,
    )
    yield server
    server.stop()


@pytest.fixture
def sim_settings(cc_settings, sim):
    return point_at_simulator(cc_settings, sim, client_id=CLIENT_ID,
                              client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI)


def page_url(world, name: str = "connection") -> str:
    return reverse(f"constantcontact:{name}", kwargs={"workspace_slug": world.workspace.slug})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def start_connect(client, world) -> str:
    """Press Connect; returns the authorize URL the browser is sent to."""
    response = client.post(page_url(world, "connect"))
    assert response.status_code == 302
    return response["Location"]


def approve(authorize_url: str) -> dict[str, str]:
    """The admin's browser at Constant Contact (auto-approve): the query the
    simulator sends back to our callback."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code in (302, 303)
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def deny(authorize_url: str) -> dict[str, str]:
    """The admin presses Deny on the simulator's consent page."""
    parts = urlsplit(authorize_url)
    answer = requests.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}?{parts.query}", data={"decision": "deny"},
        allow_redirects=False, timeout=5,
    )
    assert answer.status_code in (302, 303)
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def callback(client, query: dict[str, str]):
    return client.get(reverse("constantcontact_oauth:callback") + "?" + urlencode(query))


def connection_of(world) -> Connection | None:
    return Connection.objects.filter(workspace=world.workspace).first()


# --- Connecting end to end ---------------------------------------------------------

def test_an_admin_connects_in_one_click_through_the_simulator(admin_client, world, sim_settings):
    authorize_url = start_connect(admin_client, world)
    assert authorize_url.startswith(sim_settings.CC_AUTH_BASE_URL + "/authorize?")

    response = callback(admin_client, approve(authorize_url))

    assert response.status_code == 302
    assert response["Location"] == page_url(world)
    connection = connection_of(world)
    assert connection.status == Connection.Status.CONNECTED
    assert connection.account_name == "ccsim Demo Co"
    assert connection.account_id and connection.account_email
    assert {"contact_data", "campaign_data", "account_read"} <= connection.scopes
    assert connection.connected_by == world.admin
    # Stored encrypted: the ciphertext is not the token, and decrypts to it.
    access = tokens.read_access_token(connection)
    assert access and access not in connection.access_token_ciphertext
    assert tokens.read_refresh_token(connection) not in connection.refresh_token_ciphertext
    assert AuditEvent.objects.filter(
        action="cc.connection.connect", outcome="success", workspace=world.workspace
    ).exists()
    page = admin_client.get(page_url(world))
    html = page.content.decode()
    assert "ccsim Demo Co" in html
    assert "Connected to the Constant Contact account" in html
    assert "Reconnect" in html and "Disconnect" in html


def test_connecting_starts_the_first_syncs_and_says_so(admin_client, world, sim_settings,
                                                       django_capture_on_commit_callbacks):
    # Without this, Contacts showed 0 until someone found "Sync now".
    from apps.mirror.models import SyncRun

    authorize_url = start_connect(admin_client, world)
    with django_capture_on_commit_callbacks(execute=True):
        callback(admin_client, approve(authorize_url))

    runs = SyncRun.objects.filter(workspace=world.workspace)
    assert {(r.scope, r.kind) for r in runs} == {("contacts", "full"), ("campaigns", "full")}
    assert all(r.requested_by == world.admin for r in runs)
    html = admin_client.get(page_url(world)).content.decode()
    assert "The first sync of contacts, lists, tags and custom fields has started" in html

    # A reconnect later starts nothing new: the workspace has been synced.
    with django_capture_on_commit_callbacks(execute=True):
        callback(admin_client, approve(start_connect(admin_client, world)))
    assert SyncRun.objects.filter(workspace=world.workspace).count() == runs.count()


def test_the_first_connection_adopts_the_accounts_time_zone(admin_client, world, sim_settings):
    assert world.workspace.time_zone == "UTC"  # the default, never chosen

    callback(admin_client, approve(start_connect(admin_client, world)))

    world.workspace.refresh_from_db()
    assert world.workspace.time_zone == "US/Eastern"  # the simulated account's time_zone_id
    assert AuditEvent.objects.filter(action="workspace.settings_changed",
                                     workspace=world.workspace).exists()
    html = admin_client.get(page_url(world)).content.decode()
    assert "The workspace&#x27;s time zone is now US/Eastern" in html


def test_a_time_zone_an_admin_chose_is_kept(admin_client, world, sim_settings):
    world.workspace.time_zone = "Europe/Paris"
    world.workspace.save()

    callback(admin_client, approve(start_connect(admin_client, world)))

    world.workspace.refresh_from_db()
    assert world.workspace.time_zone == "Europe/Paris"


def test_connect_keeps_a_single_use_attempt_in_the_session(admin_client, world, sim_settings):
    authorize_url = start_connect(admin_client, world)

    query = parse_qs(urlsplit(authorize_url).query)
    [attempt] = admin_client.session[SESSION_KEY]
    assert query["state"] == [attempt["state"]]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["code_challenge_method"] == ["S256"]
    assert attempt["workspace_id"] == world.workspace.pk
    assert attempt["user_id"] == world.admin.pk
    assert attempt["verifier"] not in authorize_url  # only its S256 challenge leaves


def test_an_htmx_connect_makes_the_browser_navigate(admin_client, world, sim_settings):
    response = admin_client.post(page_url(world, "connect"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(sim_settings.CC_AUTH_BASE_URL + "/authorize?")


def test_a_reconnect_replaces_the_tokens(admin_client, world, sim_settings):
    callback(admin_client, approve(start_connect(admin_client, world)))
    first = connection_of(world)

    callback(admin_client, approve(start_connect(admin_client, world)))

    second = connection_of(world)
    assert second.pk == first.pk
    assert second.status == Connection.Status.CONNECTED
    assert tokens.read_access_token(second) != tokens.read_access_token(first)


# --- The callback refuses ----------------------------------------------------------

def test_it_refuses_a_reused_state(admin_client, world, sim_settings):
    query = approve(start_connect(admin_client, world))
    callback(admin_client, query)
    version = connection_of(world).token_version

    response = callback(admin_client, query)

    assert response.status_code == 302
    assert response["Location"] == reverse("index")
    assert "can't be used" in " ".join(messages_of(response))
    assert connection_of(world).token_version == version


def test_it_refuses_an_unknown_state(admin_client, world, sim_settings):
    start_connect(admin_client, world)

    response = callback(admin_client, {"code": "whatever", "state": "not-the-state"})

    assert response["Location"] == reverse("index")
    assert "can't be used" in " ".join(messages_of(response))
    assert connection_of(world) is None
    assert AuditEvent.objects.filter(
        action="cc.connection.connect", outcome="denied", actor=world.admin,
        details__reason="unknown_state",
    ).exists()


def test_it_refuses_a_callback_without_state(admin_client, world, sim_settings):
    query = approve(start_connect(admin_client, world))

    response = callback(admin_client, {"code": query["code"]})

    assert response["Location"] == reverse("index")
    assert connection_of(world) is None


def test_it_refuses_a_state_from_another_browser(client, admin_client, world, sim_settings):
    query = approve(start_connect(admin_client, world))
    second_admin = world.add_member("second-admin@example.com", "admin")
    client.force_login(second_admin)  # another session: the attempt isn't in it

    response = callback(client, query)

    assert response["Location"] == reverse("index")
    assert connection_of(world) is None


def test_it_refuses_an_attempt_bound_to_another_user(admin_client, world, sim_settings):
    query = approve(start_connect(admin_client, world))
    session = admin_client.session
    session[SESSION_KEY] = [{**a, "user_id": world.viewer.pk} for a in session[SESSION_KEY]]
    session.save()

    response = callback(admin_client, query)

    assert response["Location"] == reverse("index")
    assert connection_of(world) is None


def test_it_refuses_an_attempt_older_than_ten_minutes(admin_client, world, sim_settings):
    query = approve(start_connect(admin_client, world))
    session = admin_client.session
    session[SESSION_KEY] = [
        {**a, "created": time.time() - ATTEMPT_TTL_SECONDS - 1} for a in session[SESSION_KEY]
    ]
    session.save()

    response = callback(admin_client, query)

    assert response["Location"] == page_url(world)
    assert "longer than 10 minutes" in " ".join(messages_of(response))
    assert connection_of(world) is None


def test_declined_consent_is_explained(admin_client, world, sim_settings):
    query = deny(start_connect(admin_client, world))
    assert query["error"] == "access_denied"

    response = callback(admin_client, query)

    assert response["Location"] == page_url(world)
    assert "You declined the connection" in " ".join(messages_of(response))
    assert connection_of(world) is None
    assert AuditEvent.objects.filter(
        action="cc.connection.connect", outcome="failure", workspace=world.workspace,
        details__reason="access_denied",
    ).exists()
    # The attempt is spent: approving later with the same state is refused.
    assert admin_client.session[SESSION_KEY] == []


def test_an_unknown_error_code_is_not_echoed_back(admin_client, world, sim_settings):
    state = parse_qs(urlsplit(start_connect(admin_client, world)).query)["state"][0]

    response = callback(admin_client, {"error": "<script>alert(1)</script>", "state": state})

    text = " ".join(messages_of(response))
    assert "error: unknown" in text
    assert "<script>" not in text


def test_a_refused_code_is_explained(admin_client, world, sim_settings):
    query = approve(start_connect(admin_client, world))

    response = callback(admin_client, {**query, "code": "forged-code"})

    assert response["Location"] == page_url(world)
    assert "expired or was already used" in " ".join(messages_of(response))
    assert connection_of(world).status == Connection.Status.NOT_CONNECTED


def test_constant_contact_being_down_is_explained(admin_client, world, sim_settings,
                                                  no_backoff):
    query = approve(start_connect(admin_client, world))
    sim_settings.CC_AUTH_BASE_URL = "http://127.0.0.1:9/oauth2/default/v1"  # nothing listens

    response = callback(admin_client, query)

    assert response.status_code == 302
    assert response["Location"] == page_url(world)
    assert "did not answer" in " ".join(messages_of(response))
    assert connection_of(world).status == Connection.Status.NOT_CONNECTED


def test_it_refuses_a_member_who_stopped_being_admin_meanwhile(admin_client, world,
                                                               sim_settings):
    query = approve(start_connect(admin_client, world))
    Membership.objects.filter(workspace=world.workspace, user=world.admin).update(
        role=world.roles["editor"]
    )

    response = callback(admin_client, query)

    assert response.status_code == 403
    assert connection_of(world) is None


def test_anonymous_visitors_at_the_callback_are_sent_to_log_in(client, world):
    response = callback(client, {"code": "x", "state": "y"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Who may connect -----------------------------------------------------------------

@pytest.mark.parametrize("member", ["editor", "approver", "viewer"])
def test_non_admins_cannot_connect(client, world, member):
    client.force_login(world.user(member))

    assert client.post(page_url(world, "connect")).status_code == 403
    assert SESSION_KEY not in client.session


def test_outsiders_get_404(client, world):
    client.force_login(world.outsider)

    assert client.get(page_url(world)).status_code == 404
    assert client.post(page_url(world, "connect")).status_code == 404
    assert client.post(page_url(world, "disconnect")).status_code == 404


def test_connect_only_accepts_post(admin_client, world):
    assert admin_client.get(page_url(world, "connect")).status_code == 405


# --- The page ---------------------------------------------------------------------

def test_the_page_says_when_nothing_is_connected(admin_client, world):
    response = admin_client.get(page_url(world))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Not connected" in html
    assert "Connect Constant Contact" in html
    assert "Disconnect" not in html
    assert Connection.objects.count() == 0  # looking creates nothing


def test_members_see_the_health_but_no_buttons(client, world):
    connection = connect(world.workspace)
    connection.account_name = "Acme Co"
    connection.save()
    client.force_login(world.viewer)

    response = client.get(page_url(world))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme Co" in html
    assert "Expires in" in html
    assert "Present" in html  # the refresh token
    assert "Only admins can connect" in html
    assert page_url(world, "connect") not in html
    assert page_url(world, "disconnect") not in html


def test_the_page_shows_a_connection_that_needs_reconnecting(admin_client, world):
    connection = connect(world.workspace)
    connection.status = Connection.Status.NEEDS_RECONNECT
    connection.refresh_token_ciphertext = ""
    connection.last_error = "The refresh token was refused."
    connection.save()

    html = admin_client.get(page_url(world)).content.decode()

    assert "no longer accepts this connection" in html
    assert "The refresh token was refused." in html
    assert "Reconnect" in html
    assert "Missing" in html


def test_the_page_names_scopes_that_were_not_granted(admin_client, world):
    connect(world.workspace, scopes="contact_data offline_access")

    html = admin_client.get(page_url(world)).content.decode()

    assert "Not granted:" in html and "campaign_data" in html


def test_the_connect_form_is_a_real_form_post_for_the_cross_origin_redirect(admin_client,
                                                                             world):
    html = admin_client.get(page_url(world)).content.decode()

    assert 'hx-boost="false"' in html


# --- Disconnecting --------------------------------------------------------------------

def test_an_admin_disconnects_and_the_tokens_are_revoked_and_forgotten(admin_client, world,
                                                                        mocked):
    connect(world.workspace)
    revoke = mocked.post(AUTH + "/revoke", status=200)

    response = admin_client.post(page_url(world, "disconnect"))

    assert response["Location"] == page_url(world)
    assert "Disconnected" in " ".join(messages_of(response))
    assert revoke.call_count == 1
    connection = connection_of(world)
    assert connection.status == Connection.Status.NOT_CONNECTED
    assert connection.access_token_ciphertext == connection.refresh_token_ciphertext == ""
    assert AuditEvent.objects.filter(
        action="cc.connection.disconnect", actor=world.admin, workspace=world.workspace
    ).exists()


def test_disconnecting_when_not_connected_changes_nothing(admin_client, world):
    response = admin_client.post(page_url(world, "disconnect"))

    assert response["Location"] == page_url(world)
    assert "not connected" in " ".join(messages_of(response))
    assert connection_of(world) is None


@pytest.mark.parametrize("member", ["editor", "approver", "viewer"])
def test_non_admins_cannot_disconnect(client, world, member):
    connect(world.workspace)
    client.force_login(world.user(member))

    assert client.post(page_url(world, "disconnect")).status_code == 403
    assert connection_of(world).status == Connection.Status.CONNECTED


def test_the_csp_lets_the_connect_form_redirect_to_the_authorization_server(admin_client,
                                                                             world):
    configured = urlsplit(base_settings.CC_AUTH_BASE_URL)  # as the environment set it

    csp = admin_client.get(page_url(world))["Content-Security-Policy"]

    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert f"{configured.scheme}://{configured.netloc}" in directives["form-action"]
