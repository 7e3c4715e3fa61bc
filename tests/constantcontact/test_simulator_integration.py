"""The boundary against the real simulator over HTTP: connect with code + PKCE
(the simulator approves automatically), page through every contact and campaign,
refresh and rotate tokens, survive a 401, refuse or surface missing scopes,
tell the two 429s apart, and ride out (or give up on) injected faults.

The simulator runs in a thread of this process with Constant Contact's real
limits (4 requests/second, 1/second at the token endpoint); a request log hooked
into it (helpers_sim.py) shows what actually arrived there.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from django.core import mail
from django.utils import timezone
import pytest
import requests

from apps.accounts.models import Membership
from apps.audit.models import AuditEvent
from apps.constantcontact import client, conf, oauth, tokens
from apps.constantcontact.errors import (
    Forbidden,
    GrantDenied,
    NeedsReconnect,
    QuotaExceeded,
    UpstreamUnavailable,
)
from apps.constantcontact.gate import Actor, gate_for
from apps.constantcontact.models import Connection
from apps.constantcontact.ratelimit import api_budget, token_limiter
from apps.constantcontact.services import connection_for
from tests.constantcontact.conftest import ALL_SCOPES, connect, expire_soon
from tests.constantcontact.helpers_sim import RequestLog
from tests.upstream_settings import point_at_simulator

ccsim_server = pytest.importorskip("ccsim.server")

SEEDED_CONTACTS = 120
SEEDED_CAMPAIGNS = 4  # ccsim.seed: three sent campaigns and one draft


@pytest.fixture(scope="module")
def sim():
    server = ccsim_server.start_in_thread(port=0, contacts=SEEDED_CONTACTS, auto_approve=True)
    server.log = RequestLog(server)
    yield server
    server.stop()


@pytest.fixture
def sim_settings(settings, sim):
    point_at_simulator(settings, sim)
    # The real limits, which the simulator enforces too.
    settings.CC_RATE_PER_SECOND = 4
    settings.CC_TOKEN_RATE_PER_SECOND = 1
    return settings


@pytest.fixture(autouse=True)
def fresh_simulator(sim):
    """Each test starts with the simulator's limits, faults and request log empty
    (its data stays: the tests only read it or add to it)."""
    control(sim, "POST", "reset_limits")
    control(sim, "DELETE", "faults")
    sim.log.clear()
    daily_quota = sim.quota.per_day
    yield
    sim.quota.per_day = daily_quota
    control(sim, "DELETE", "faults")


def control(sim, method: str, what: str, **body) -> dict:
    """The simulator's control API (ccsim/control.py), over HTTP like everything else."""
    answer = requests.request(method, f"{sim.base_url}/__sim__/{what}", json=body or None,
                              timeout=5)
    answer.raise_for_status()
    return answer.json()


def connect_through_the_simulator(world, *, scopes: tuple[str, ...] = oauth.SCOPES) -> Connection:
    admin = Membership.objects.get(workspace=world.workspace, user=world.admin)
    url, state, verifier = oauth.oauth_start()
    if scopes != oauth.SCOPES:
        # A connection made when ccadmin asked for fewer scopes (an older version,
        # or an account whose consent was narrower).
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        url = urlunsplit(parts._replace(query=urlencode({**query, "scope": " ".join(scopes)})))
    # The admin's browser: the simulator approves and redirects to our callback.
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code in (302, 303)
    callback = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert oauth.oauth_state_matches(expected=state, received=callback["state"][0])
    return oauth.oauth_complete(connection=connection_for(workspace=world.workspace),
                                code=callback["code"][0], verifier=verifier, actor=admin)


def gate_as(world, who: str = "viewer"):
    membership = Membership.objects.get(workspace=world.workspace, user=world.user(who))
    return gate_for(workspace=world.workspace, actor=Actor.member(membership))


def test_an_admin_connects_with_code_and_pkce(world, sim_settings, sim):
    connection = connect_through_the_simulator(world)
    assert connection.status == Connection.Status.CONNECTED
    assert {"contact_data", "campaign_data", "account_read"} <= connection.scopes
    assert connection.account_name  # read from /account/summary
    assert [(a.grant_type, a.status) for a in sim.log.token_calls()] == [
        ("authorization_code", 200)
    ]


def test_listing_contacts_pages_through_to_the_end(world, sim_settings):
    connect_through_the_simulator(world)
    cc = gate_as(world)

    # status=all includes deleted contacts; the cursor must carry it to every page.
    pages = list(cc.pages("contacts.list", params={"limit": 50, "status": "all"}))

    ids = [c["contact_id"] for page in pages for c in page.data["contacts"]]
    assert len(pages) == 3
    assert len(ids) == len(set(ids)) == SEEDED_CONTACTS
    assert all(page.request_id for page in pages)
    assert pages[-1].next_href is None
    assert AuditEvent.objects.filter(action="cc.contacts.list", outcome="success").count() == 3


def test_listing_campaigns_follows_their_own_kind_of_cursor_to_the_end(world, sim_settings, sim):
    connect_through_the_simulator(world)
    cc = gate_as(world)

    # /emails pages with next=<base64 with * padding>, not cursor= (contract §2.6).
    pages = list(cc.pages("emails.list", params={"limit": 1}))

    names = [c["name"] for page in pages for c in page.data["campaigns"]]
    assert len(pages) == len(set(names)) == SEEDED_CAMPAIGNS
    assert "next=" in pages[0].next_href
    assert pages[-1].next_href is None


def test_a_token_near_expiry_is_refreshed_before_it_is_used(world, sim_settings, sim):
    connection = connect_through_the_simulator(world)
    old_access = tokens.read_access_token(connection)
    old_refresh = tokens.read_refresh_token(connection)
    version = connection.token_version
    expire_soon(connection, seconds=60)  # inside the 5-minute refresh margin
    sim.log.clear()

    result = gate_as(world).call("contacts.list", params={"limit": 1})

    assert result.attempts == 1
    assert sim.log.summary() == [
        ("POST", "/oauth2/default/v1/token", 200, "refresh_token"),
        ("GET", "/v3/contacts", 200, ""),
    ]
    connection.refresh_from_db()
    assert connection.token_version == version + 1
    assert connection.access_expires_at > timezone.now() + timedelta(hours=23)
    assert tokens.read_access_token(connection) != old_access
    assert tokens.read_refresh_token(connection) != old_refresh  # rotated


def test_the_refresh_token_a_refresh_replaced_is_dead_at_the_simulator(world, sim_settings):
    connection = connect_through_the_simulator(world)
    old_refresh = tokens.read_refresh_token(connection)
    expire_soon(connection)
    gate_as(world).call("contacts.list", params={"limit": 1})  # refreshes, which rotates

    with pytest.raises(NeedsReconnect) as refused:
        client.token_refresh(refresh_token=old_refresh, limiter=token_limiter())

    assert refused.value.error_key == "invalid_grant"


def test_a_refused_refresh_token_marks_the_connection_needs_reconnect(world, sim_settings, sim):
    connection = connect_through_the_simulator(world)
    old_refresh = tokens.read_refresh_token(connection)
    expire_soon(connection)
    gate_as(world).call("contacts.list", params={"limit": 1})
    # Another copy of the database (a restored backup, a second deployment) still
    # holds the refresh token the simulator just rotated away.
    connection.refresh_from_db()
    tokens.apply_token_response(
        connection,
        {"access_token": tokens.read_access_token(connection), "refresh_token": old_refresh,
         "expires_in": 60},
        now=timezone.now(),
    )
    connection.save()
    sim.log.clear()

    with pytest.raises(NeedsReconnect):
        gate_as(world).call("contacts.list", params={"limit": 1})

    assert sim.log.summary() == [
        ("POST", "/oauth2/default/v1/token", 400, "invalid_grant"),
    ]
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert not connection.refresh_token_ciphertext
    assert [m.to for m in mail.outbox] == [[world.admin.email]]
    assert AuditEvent.objects.filter(action="cc.connection.needs_reconnect").count() == 1
    # From now on nothing leaves the machine until an admin reconnects.
    with pytest.raises(NeedsReconnect):
        gate_as(world).call("contacts.list", params={"limit": 1})
    assert len(sim.log.arrivals) == 1


def test_a_401_refreshes_once_and_the_retry_succeeds(world, sim_settings, sim):
    connection = connect_through_the_simulator(world)
    control(sim, "POST", "expire_tokens")  # revoked upstream; our row still says valid
    sim.log.clear()

    result = gate_as(world).call("contacts.list", params={"limit": 1})

    assert result.status == 200
    assert result.attempts == 2
    assert sim.log.summary() == [
        ("GET", "/v3/contacts", 401, "unauthorized"),
        ("POST", "/oauth2/default/v1/token", 200, "refresh_token"),
        ("GET", "/v3/contacts", 200, ""),
    ]
    version = connection.token_version
    connection.refresh_from_db()
    assert connection.token_version == version + 1


def test_a_connection_without_campaign_data_is_refused_before_sending(world, sim_settings, sim):
    connection = connect_through_the_simulator(
        world, scopes=tuple(s for s in oauth.SCOPES if s != "campaign_data")
    )
    assert "campaign_data" not in connection.scopes
    sim.log.clear()

    with pytest.raises(GrantDenied) as refused:
        gate_as(world).call("emails.list")

    assert refused.value.reason == "scope_missing"
    assert sim.log.arrivals == []
    assert AuditEvent.objects.get(action="cc.emails.list").outcome == "denied"


def test_a_403_from_the_simulator_surfaces_as_forbidden(world, sim_settings, sim):
    # Our row says campaign_data, the token the simulator issued says otherwise
    # (Constant Contact also answers 403 for a missing user privilege).
    token = sim.mint_token(["account_read", "contact_data"])
    connect(world.workspace, access=token, refresh="unused", scopes=ALL_SCOPES)

    with pytest.raises(Forbidden) as refused:
        gate_as(world).call("emails.list")

    assert refused.value.status == 403
    assert refused.value.attempts == 1  # permanent: not retried
    assert sim.log.summary() == [("GET", "/v3/emails", 403, "forbidden")]


def test_a_throttled_429_is_retried_and_succeeds(world, sim_settings, sim):
    sim_settings.CC_THROTTLE_COOL_OFF_MS = 1100  # the real pause (the fixtures shorten it)
    connect_through_the_simulator(world)
    control(sim, "POST", "reset_limits")
    sim.log.clear()
    # Something else using the same application key (which our limiter can't see)
    # spends this second's four requests.
    other = {"Authorization": f"Bearer {sim.mint_token()}"}
    for _ in range(4):
        assert requests.get(f"{sim.base_url}/v3/account/summary", headers=other,
                            timeout=5).status_code == 200

    result = gate_as(world).call("contacts.list", params={"limit": 1})

    assert result.status == 200
    assert result.attempts == 2
    assert [(a.path, a.status, a.error_key) for a in sim.log.api()[4:]] == [
        ("/v3/contacts", 429, "throttled"),
        ("/v3/contacts", 200, ""),
    ]
    assert api_budget().usage().events["throttled"] == 1


def test_quota_exceeded_is_raised_not_retried_and_stops_later_calls(world, sim_settings, sim):
    connect_through_the_simulator(world)
    control(sim, "POST", "reset_limits")
    sim.quota.per_day = 1  # restored by fresh_simulator
    cc = gate_as(world)
    cc.call("contacts.list", params={"limit": 1})

    with pytest.raises(QuotaExceeded) as spent:
        cc.call("contacts.list", params={"limit": 1})

    assert spent.value.attempts == 1
    assert [(a.status, a.error_key) for a in sim.log.api()[-2:]] == [
        (200, ""), (429, "quota_exceeded"),
    ]
    sent = len(sim.log.arrivals)
    # Backing off won't help until 00:00 UTC, so the next call never leaves.
    with pytest.raises(QuotaExceeded) as refused:
        cc.call("contacts.list", params={"limit": 1})
    assert refused.value.attempts == 0
    assert len(sim.log.arrivals) == sent


def test_a_burst_of_503s_on_reads_is_retried_through(world, sim_settings, sim, no_backoff):
    connect_through_the_simulator(world)
    control(sim, "POST", "faults", error_rate_503=1.0, count=2, path_prefix="/v3/contacts")

    result = gate_as(world).call("contacts.list", params={"limit": 1})

    assert result.status == 200
    assert result.attempts == 3
    assert len(no_backoff) == 2
    assert control(sim, "GET", "faults")["count"] == 0


def test_a_post_answered_503_is_not_sent_again(world, sim_settings, sim, no_backoff):
    connect_through_the_simulator(world)
    control(sim, "POST", "faults", error_rate_503=1.0, count=5, path_prefix="/v3/contacts")
    contacts_before = sim.state.counts()["contacts"]

    with pytest.raises(UpstreamUnavailable) as failed:
        gate_as(world, "editor").call("contacts.create", json={
            "email_address": {"address": "new.person@example.com"},
            "first_name": "New", "create_source": "Account",
        })

    # It may have been created: the caller reconciles with a GET instead.
    assert failed.value.attempts == 1
    assert control(sim, "GET", "faults")["count"] == 4
    assert sim.state.counts()["contacts"] == contacts_before


def test_dropped_connections_end_in_upstream_unavailable_after_bounded_attempts(
    world, sim_settings, sim, no_backoff
):
    connect_through_the_simulator(world)
    control(sim, "POST", "faults", drop_rate=1.0, count=100, path_prefix="/v3/contacts")

    with pytest.raises(UpstreamUnavailable) as failed:
        gate_as(world).call("contacts.list", params={"limit": 1})

    assert failed.value.attempts == conf.max_attempts()
    assert control(sim, "GET", "faults")["count"] == 100 - conf.max_attempts()
    assert AuditEvent.objects.get(action="cc.contacts.list").outcome == "failure"
