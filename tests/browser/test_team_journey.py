"""Issue 12's journey, walked once in real Chromium against the live simulator:
a fresh login lands on the dashboard; the admin connects Constant Contact and the
first sync starts by itself (the contacts count appears without "Sync now"); an
editor makes a campaign from a gallery template and asks for review (the
approver's email is in the outbox); a second member approves, schedules and
unschedules it; the audit log says so in words. No console error on the way.

Each step has a fuller test of its own (test_connect_flow, test_email_editor,
test_review_round_trip, test_campaign_approval_flow, test_audit_log_readable);
this one proves they join up. Connecting on a non-default port is covered by
tests/core/test_dev_script.py. Celery is eager in tests, so the first sync and
the schedule jobs run inside the requests that start them."""

import copy
from datetime import timedelta

from django.core import mail
from django.utils import timezone
import pytest

from apps.mirror.models import Campaign
from tests.conftest import PASSWORD
from tests.contacts.conftest import (  # noqa: F401 — pytest finds fixtures by name
    SEEDED_CONTACTS,
    sim,
    sim_contacts,
)
from tests.upstream_settings import point_at_simulator, run_unthrottled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "ccadmin-journey-test"
CLIENT_SECRET = "journey-test-secret"
NAME = "Spring newsletter"


@pytest.fixture
def journey_settings(settings, sim, live_server):  # noqa: F811
    """The simulator (auto-approving consent) knows this live server's callback."""
    redirect_uri = f"{live_server.url}/oauth/constantcontact/callback/"
    sim.oauth.register_client(CLIENT_ID, CLIENT_SECRET, [redirect_uri])
    point_at_simulator(settings, sim, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                       redirect_uri=redirect_uri)
    run_unthrottled(settings, redis_prefix="cc-journey-test")
    # settings.py derives form-action from CC_AUTH_BASE_URL at start-up; this
    # simulator listens elsewhere, so derive it again the same way.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = ["'self'", sim.base_url]
    settings.CONTENT_SECURITY_POLICY = policy
    return settings


def signed_in(browser, live_server, user, errors: list):
    """A fresh browser context, logged in: a CSP violation or script error is recorded."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console",
            lambda m: errors.append(f"{page.url} {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url} {e}"))
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/w/*/")
    return context, page


def test_the_team_journey(browser, live_server, world, sim, journey_settings):  # noqa: F811
    slug = world.workspace.slug
    errors: list[str] = []
    contexts = []
    try:
        # Fresh login → the dashboard, which offers to connect.
        admin_context, admin = signed_in(browser, live_server, world.admin, errors)
        contexts.append(admin_context)
        assert admin.url.endswith(f"/w/{slug}/")
        admin.get_by_role("heading", name="Acme Marketing", level=1).wait_for()
        admin.get_by_role("link", name="Connect Constant Contact").first.wait_for()

        # Connect: the simulator approves by itself and sends the browser back.
        admin.get_by_role("link", name="Constant Contact", exact=True).click()
        admin.get_by_text("Not connected", exact=True).wait_for()
        admin.get_by_role("button", name="Connect Constant Contact").click()
        admin.get_by_text("Connected to the Constant Contact account").wait_for()
        assert admin.url.endswith(f"/w/{slug}/constant-contact/")
        # The first sync starts by itself, and the page says so.
        admin.get_by_text(
            "The first sync of contacts, lists, tags and custom fields has started").wait_for()
        # Nobody pressed "Sync now", yet the dashboard counts the contacts.
        admin.goto(f"/w/{slug}/")
        # (The seeded account has a few contacts that are not counted, e.g. deleted ones.)
        contacts = int(admin.locator("[data-count=contacts]").inner_text().replace(",", ""))
        assert 0 < contacts <= SEEDED_CONTACTS

        # An editor makes a campaign from a gallery template.
        editor_context, editor = signed_in(browser, live_server, world.editor, errors)
        contexts.append(editor_context)
        editor.goto(f"/w/{slug}/campaigns/")
        editor.get_by_role("link", name="New campaign").click()
        editor.wait_for_url(f"**/w/{slug}/campaigns/new/templates/")
        editor.get_by_role("link", name="Use the Newsletter template").click()
        editor.wait_for_url("**/campaigns/new/?template=newsletter")
        editor.frame_locator(".email-editor-canvas iframe.gjs-frame").get_by_role(
            "heading", name="The first story").wait_for()
        editor.get_by_label("Campaign name").fill(NAME)
        editor.get_by_label("From name").fill("Acme Marketing")
        editor.get_by_label("From address").select_option("news@ccsim-demo.example")
        editor.get_by_label("Reply-to address").select_option("news@ccsim-demo.example")
        editor.get_by_label("Subject").fill("Spring news")
        editor.get_by_label("Newsletter").check()
        planned = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
        editor.get_by_label("Planned send time").fill(planned.strftime("%Y-%m-%dT%H:%M"))
        editor.get_by_role("button", name="Create draft").click()
        editor.get_by_text(f"Draft “{NAME}” created.").wait_for()
        campaign = Campaign.objects.select_related("email").get(workspace=world.workspace,
                                                                name=NAME)
        assert 'class="email-footer' in campaign.email.html_content
        detail = f"/w/{slug}/campaigns/{campaign.pk}/"

        # Review requested: the approver's email is in the outbox.
        mail.outbox.clear()
        editor.get_by_label("Note for the reviewer").fill("Ready for spring")
        editor.get_by_role("button", name="Ask for review").click()
        editor.get_by_text("Review requested.").wait_for()
        assert (world.approver.email, f"[Acme Marketing] Review requested: {NAME}") in [
            (m.to[0], m.subject) for m in mail.outbox]

        # A second member approves, then (with the send capability) schedules it.
        approver_context, approver = signed_in(browser, live_server, world.approver, errors)
        contexts.append(approver_context)
        approver.goto(detail)
        approver.get_by_text("Ready for spring").first.wait_for()
        approver.get_by_role("button", name="Approve").click()
        approver.get_by_text("Approved. A member with the send capability").wait_for()

        approver.get_by_role("link", name="Schedule…").click()
        approver.get_by_text(f"Send “{NAME}” to Newsletter").wait_for()
        approver.get_by_label("Type the campaign's name to confirm").fill(NAME)
        approver.get_by_role("button", name="Schedule the send").click()
        approver.wait_for_url(f"**{detail}")
        approver.get_by_text("Constant Contact has the send scheduled.").wait_for()
        with sim.state.lock:
            status = sim.state.campaign_activities[campaign.primary_activity_id]["current_status"]
        assert status == "SCHEDULED"

        # ... and unschedules it.
        approver.get_by_role("link", name="Unschedule…").click()
        approver.get_by_role("heading", name=f"Unschedule “{NAME}”?").wait_for()
        approver.get_by_label("Yes, take the schedule back").check()
        approver.get_by_role("button", name="Unschedule", exact=True).click()
        approver.wait_for_url(f"**{detail}")
        approver.get_by_text("The schedule was taken back").wait_for()
        with sim.state.lock:
            status = sim.state.campaign_activities[campaign.primary_activity_id]["current_status"]
        assert status == "DRAFT"

        # The audit log tells the story in words, with the campaign by name.
        admin.goto(f"/w/{slug}/audit/")
        for words in ("Unscheduled campaign", "Scheduled campaign", "Approved campaign",
                      "Asked for review"):
            row = admin.locator("tr", has_text=words).first
            row.wait_for()
            assert f"“{NAME}”" in row.inner_text(), words

        assert errors == []
    finally:
        for context in contexts:
            context.close()
