"""In real Chromium: the Agent requests inbox. An agent's requests (made through
the service the MCP server calls, from the mirror) wait in the inbox with a
count in the side navigation; a member opens one, reads its preview, cost and
warning, and declines it with a note; the history keeps it.

Screenshots (empty inbox, with requests, a request's page, desktop and phone)
with CCADMIN_SHOTS_DIR set:

    CCADMIN_SHOTS_DIR=/tmp/shots .venv/bin/python -m pytest tests/browser/test_agent_requests.py
"""

from datetime import timedelta

from django.utils import timezone
import pytest

from apps.accounts.models import Membership
from apps.agents.models import AgentRequest
from apps.agents.services.requests import propose_agent_request
from apps.mirror.models import EmailStatus
from tests.browser.support import shoot
from tests.browser.test_clear_filters import log_in
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    ContactListFactory,
    EmailActivityFactory,
    ListMembershipFactory,
    make_agent,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _account(workspace):
    """A small mirrored account: a list with members, a contact, a draft campaign."""
    vip = ContactListFactory(workspace=workspace, cc_id="l-vip", name="VIP customers",
                             membership_count=3)
    contacts = [ContactFactory(workspace=workspace, cc_id=f"c-{n}", first_name=name,
                               last_name="Moreau", email=f"{name.lower()}@example.com",
                               email_status=EmailStatus.EXPLICIT)
                for n, name in enumerate(("Alice", "Bruno", "Chloé"))]
    for contact in contacts:
        ListMembershipFactory(contact=contact, contact_list=vip)
    spring = CampaignFactory(workspace=workspace, cc_id="c-spring", name="Spring sale",
                             primary_activity_id="a-spring")
    EmailActivityFactory(campaign=spring, subject="Everything is 20% off",
                         from_name="Acme", from_email="news@example.com",
                         contact_list_ids=["l-vip"],
                         planned_send_at=timezone.now() + timedelta(days=1))
    return contacts


def test_an_agents_requests_wait_in_the_inbox_and_a_member_declines_one(page):
    from apps.accounts.demo import demo_ensure

    workspace = demo_ensure()
    slug = workspace.slug
    contacts = _account(workspace)
    log_in(page, workspace)

    page.goto(f"/w/{slug}/agents/requests/")
    page.get_by_text("No agent requests are waiting").wait_for()
    shoot(page, "agent-requests", "requests-empty")

    owner = Membership.objects.get(workspace=workspace, user__email__startswith="admin")
    agent, _key = make_agent(owner, name="Newsletter helper", drafts_only=False)

    def ask(kind, body=None, **path_params):
        return propose_agent_request(agent=agent, endpoint_name=kind, path_params=path_params,
                                     params=None, body=body)

    ask("emails.schedule", campaign_activity_id="a-spring")
    delete = ask("contacts.delete", contact_id="c-1")
    ask("contacts.update", contact_id="c-2",
        body={"email_address": {"address": contacts[2].email,
                                "permission_to_send": "unsubscribed"}})
    ask("activities.remove_list_memberships",
        body={"source": {"contact_ids": ["c-0", "c-1"]}, "list_ids": ["l-vip"]})

    page.goto(f"/w/{slug}/agents/requests/")
    nav = page.locator("nav.sidenav a", has_text="Agent requests")
    assert "4" in nav.inner_text()
    page.get_by_role("link", name="Schedule the campaign “Spring sale”").wait_for()
    assert page.get_by_text("Campaign not approved yet").count() == 1
    shoot(page, "agent-requests", "requests-pending")

    page.get_by_role("link", name="Schedule the campaign “Spring sale”").click()
    page.wait_for_url("**/agents/requests/*/")
    assert page.get_by_text("Campaign not approved yet — approve it first").is_visible()
    shoot(page, "agent-requests", "request-detail-schedule")

    page.goto(delete.get_absolute_url())
    page.get_by_text("1 API call").wait_for()
    page.get_by_label("Note (optional)").fill("Bruno asked us to keep his address.")
    shoot(page, "agent-requests", "request-detail")
    page.get_by_role("button", name="Decline").click()
    page.get_by_text("Declined. Nothing was sent to Constant Contact.").wait_for()
    assert page.get_by_text("Bruno asked us to keep his address.").is_visible()
    delete.refresh_from_db()
    assert delete.status == AgentRequest.Status.DECLINED

    page.goto(f"/w/{slug}/agents/requests/")
    assert "3" in page.locator("nav.sidenav a", has_text="Agent requests").inner_text()
    page.locator("#history-heading").wait_for()
    shoot(page, "agent-requests", "requests-with-history")
