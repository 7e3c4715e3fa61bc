"""The boundary against the real simulator over HTTP: connect with code + PKCE
(the simulator approves automatically), then page through every contact."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from apps.accounts.models import Membership
from apps.audit.models import AuditEvent
from apps.constantcontact import oauth
from apps.constantcontact.gate import Actor, gate_for
from apps.constantcontact.models import Connection
from apps.constantcontact.services import connection_for

ccsim_server = pytest.importorskip("ccsim.server")
ccsim_constants = pytest.importorskip("ccsim.constants")

SEEDED_CONTACTS = 120


@pytest.fixture(scope="module")
def sim():
    server = ccsim_server.start_in_thread(port=0, contacts=SEEDED_CONTACTS, auto_approve=True)
    yield server
    server.stop()


@pytest.fixture
def sim_settings(settings, sim):
    settings.CC_API_BASE_URL = f"{sim.base_url}/v3"
    settings.CC_AUTH_BASE_URL = f"{sim.base_url}/oauth2/default/v1"
    settings.CC_CLIENT_ID = ccsim_constants.DEMO_CLIENT_ID
    settings.CC_CLIENT_SECRET = ccsim_constants.DEMO_CLIENT_SECRET
    settings.CC_REDIRECT_URI = ccsim_constants.DEMO_REDIRECT_URI
    # The real limits, which the simulator enforces too.
    settings.CC_RATE_PER_SECOND = 4
    settings.CC_TOKEN_RATE_PER_SECOND = 1
    return settings


def connect_through_the_simulator(world) -> Connection:
    admin = Membership.objects.get(workspace=world.workspace, user=world.admin)
    url, state, verifier = oauth.oauth_start()
    # The admin's browser: the simulator approves and redirects to our callback.
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code in (302, 303)
    callback = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert oauth.oauth_state_matches(expected=state, received=callback["state"][0])
    return oauth.oauth_complete(connection=connection_for(workspace=world.workspace),
                                code=callback["code"][0], verifier=verifier, actor=admin)


def test_an_admin_connects_with_code_and_pkce(world, sim_settings):
    connection = connect_through_the_simulator(world)
    assert connection.status == Connection.Status.CONNECTED
    assert {"contact_data", "campaign_data", "account_read"} <= connection.scopes
    assert connection.account_name  # read from /account/summary


def test_listing_contacts_pages_through_to_the_end(world, sim_settings):
    connect_through_the_simulator(world)
    viewer = Membership.objects.get(workspace=world.workspace, user=world.viewer)
    cc = gate_for(workspace=world.workspace, actor=Actor.member(viewer))

    # status=all includes deleted contacts; the cursor must carry it to every page.
    pages = list(cc.pages("contacts.list", params={"limit": 50, "status": "all"}))

    ids = [c["contact_id"] for page in pages for c in page.data["contacts"]]
    assert len(pages) == 3
    assert len(ids) == len(set(ids)) == SEEDED_CONTACTS
    assert all(page.request_id for page in pages)
    assert AuditEvent.objects.filter(action="cc.contacts.list", outcome="success").count() == 3
