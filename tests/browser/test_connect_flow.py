"""In real Chromium: the demo admin connects Constant Contact in one click — Connect,
Approve on the simulator's consent page, and back — which proves what the Django
test client can't: the connect form really leaves htmx's boost, and the CSP's
form-action lets the browser follow the redirect to the authorization server."""

import copy
import uuid

from cryptography.fernet import Fernet
import pytest

from apps.accounts.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, demo_ensure
from apps.constantcontact.models import Connection
from tests.upstream_settings import point_at_simulator

ccsim = pytest.importorskip("ccsim")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "ccadmin-browser-test"
CLIENT_SECRET = "browser-test-secret"


@pytest.fixture(scope="module")
def consenting_sim():
    # No auto-approve: the admin sees the consent page and presses Approve.
    server = ccsim.start_in_thread(port=0, rate_per_second=0, token_rate_per_second=0)
    yield server
    server.stop()


@pytest.fixture
def sim_settings(settings, consenting_sim, live_server):
    redirect_uri = f"{live_server.url}/oauth/constantcontact/callback/"
    consenting_sim.oauth.register_client(CLIENT_ID, CLIENT_SECRET, [redirect_uri])
    settings.CCADMIN_FERNET_KEYS = [Fernet.generate_key().decode()]
    settings.CC_REDIS_PREFIX = f"cc-browser-{uuid.uuid4().hex}"  # a budget of its own
    point_at_simulator(settings, consenting_sim, client_id=CLIENT_ID,
                       client_secret=CLIENT_SECRET, redirect_uri=redirect_uri)
    # settings.py derives form-action from CC_AUTH_BASE_URL at start-up; this
    # simulator listens on another port, so derive it again the same way.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = ["'self'", consenting_sim.base_url]
    settings.CONTENT_SECURITY_POLICY = policy
    return settings


def test_the_demo_admin_connects_in_one_click(page, sim_settings):
    workspace = demo_ensure()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(DEMO_ADMIN_EMAIL)
    page.get_by_label("Password").fill(DEMO_ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{workspace.slug}/")

    # A boosted navigation: the document (and its CSP) stays the one first loaded.
    page.get_by_role("link", name="Constant Contact", exact=True).click()
    page.get_by_text("Not connected", exact=True).wait_for()
    page.get_by_role("button", name="Connect Constant Contact").click()
    page.get_by_role("button", name="Approve").click()

    page.get_by_text("Connected to the Constant Contact account “ccsim Demo Co”.").wait_for()
    # The first sync starts by itself, and the page says so.
    page.get_by_text("The first sync of contacts, lists, tags and custom fields has started").wait_for()
    assert page.url.endswith(f"/w/{workspace.slug}/constant-contact/")
    assert page.get_by_role("button", name="Reconnect").is_visible()
    connection = Connection.objects.get(workspace=workspace)
    assert connection.status == Connection.Status.CONNECTED
