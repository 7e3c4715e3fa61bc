"""In real Chromium, two people in two browser contexts against the live
simulator: an editor drafts a campaign and asks for review; an approver
approves; the editor changes the subject and sees the approval voided with the
diff; after a second review the approver approves again and, as a member with
the *send* capability, schedules it — and the simulator has the schedule.

Celery is eager in tests, so the schedule job runs inside the request."""

from datetime import timedelta

from django.utils import timezone
import pytest

from apps.campaigns.models import Approval
from apps.mirror.models import Campaign
from tests.conftest import PASSWORD
from tests.contacts.conftest import (  # noqa: F401 — pytest finds fixtures by name
    connected_world,
    run_sync,
    sim,
    sim_contacts,
    sim_settings,
    synced_world,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Spring sale"
HTML = ("<html><body>[[trackingImage]]\n<h1>Spring sale</h1>\n<p>Everything is 20% off.</p>\n"
        "</body></html>")


def signed_in(browser, live_server, user, errors: list):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # A CSP violation (an inline script or style slipping in) shows up as a console error.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/w/*/")
    return context, page


def test_draft_review_void_reapprove_and_schedule(browser, live_server, synced_world):  # noqa: F811
    world = synced_world
    slug = world.workspace.slug
    errors: list[str] = []
    editor_context, editor = signed_in(browser, live_server, world.editor, errors)
    approver_context, approver = signed_in(browser, live_server, world.approver, errors)
    try:
        # The editor drafts the campaign through the editor screen.
        editor.goto(f"/w/{slug}/campaigns/new/")
        editor.get_by_label("Campaign name").fill(NAME)
        editor.get_by_label("From name").fill("Acme Marketing")
        editor.get_by_label("From address").select_option("news@ccsim-demo.example")
        editor.get_by_label("Reply-to address").select_option("news@ccsim-demo.example")
        editor.get_by_label("Subject").fill("Spring sale")
        editor.get_by_label("HTML content").fill(HTML)
        editor.get_by_label("Newsletter").check()
        planned = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
        editor.get_by_label("Planned send time").fill(planned.strftime("%Y-%m-%dT%H:%M"))
        editor.get_by_role("button", name="Create draft").click()
        editor.get_by_text(f"Draft “{NAME}” created.").wait_for()
        campaign = Campaign.objects.get(workspace=world.workspace, name=NAME)
        detail = f"/w/{slug}/campaigns/{campaign.pk}/"

        # ... and asks for review.
        editor.get_by_label("Note for the reviewer").fill("Ready for the spring launch")
        editor.get_by_role("button", name="Ask for review").click()
        editor.get_by_text("Review requested.").wait_for()

        # The approver approves.
        approver.goto(detail)
        approver.get_by_text("Ready for the spring launch").first.wait_for()
        approver.get_by_label("Comment").fill("Looks good")
        approver.get_by_role("button", name="Approve").click()
        approver.get_by_text("Approved. A member with the send capability").wait_for()
        assert Approval.objects.get(campaign=campaign).decision == Approval.Decision.APPROVED

        # The editor changes the subject: the approval is voided and the diff shown.
        editor.goto(detail)
        editor.get_by_role("link", name="Edit", exact=True).click()
        editor.get_by_label("Subject").fill("Spring sale: last days")
        editor.get_by_role("button", name="Save", exact=True).click()
        editor.wait_for_url(f"**{detail}")
        panel = editor.locator("#approval-panel")
        panel.get_by_text("was voided").wait_for()
        changes = panel.locator("table.approval-changes")
        assert changes.locator("del").first.inner_text() == "Spring sale"
        assert changes.locator("ins").first.inner_text() == "Spring sale: last days"
        assert Approval.objects.get(campaign=campaign).decision == Approval.Decision.VOIDED

        # A second review, approved again.
        editor.get_by_role("button", name="Ask for review").click()
        editor.get_by_text("Review requested.").wait_for()
        approver.goto(detail)
        approver.get_by_role("button", name="Approve").click()
        approver.get_by_text("Approved. A member with the send capability").wait_for()

        # The approver (the Approver preset has *send*) schedules it.
        approver.get_by_role("link", name="Schedule…").click()
        approver.get_by_text(f"Send “{NAME}” to Newsletter").wait_for()
        approver.get_by_label("Type the campaign's name to confirm").fill(NAME)
        approver.get_by_role("button", name="Schedule the send").click()
        approver.wait_for_url(f"**{detail}")
        approver.get_by_text("Constant Contact has the send scheduled.").wait_for()

        with world.sim.state.lock:
            activity = dict(world.sim.state.campaign_activities[campaign.primary_activity_id])
        assert activity["current_status"] == "SCHEDULED"
        assert activity["subject"] == "Spring sale: last days"
        assert activity["_scheduled_date"] == planned.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert errors == []
    finally:
        editor_context.close()
        approver_context.close()
