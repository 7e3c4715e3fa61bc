"""Team → Agents in real Chromium: an admin creates an agent whose role is above
its owner's, copies its key from the one page that shows it, finds the owner's
cap on the agent's page, rotates the key and revokes it; the API budget gives an
agent its own line. No console error on the way.

Screenshots (desktop and phone) of the list, the form, the key page, the
agent's page, the API budget and the audit log with CCADMIN_SHOTS_DIR set (they
land in <dir>/agents/).
"""

from datetime import timedelta

from django.utils import timezone
import pytest

from apps.accounts.agents import agent_for_key
from apps.accounts.demo import demo_ensure
from apps.accounts.models import Agent, Membership, Role
from apps.constantcontact.agent_caps import budget_member_key
from apps.constantcontact.ratelimit import api_budget
from tests.browser.support import shoot
from tests.browser.test_clear_filters import log_in
from tests.factories import UserFactory, make_agent
from tests.upstream_settings import run_unthrottled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(settings):
    run_unthrottled(settings, redis_prefix="agents-browser")
    workspace = demo_ensure()
    roles = {r.preset: r for r in Role.objects.filter(workspace=workspace)}
    ana = Membership.objects.create(
        workspace=workspace, role=roles["editor"],
        user=UserFactory(email="ana@example.com", full_name="Ana Lima"))
    # One agent already at work, to fill the list.
    reporter, _ = make_agent(ana, name="Weekly report script", role=roles["viewer"],
                             daily_quota_percent=2, expires_at=timezone.now() + timedelta(days=30))
    Agent.objects.filter(pk=reporter.pk).update(last_used_at=timezone.now() - timedelta(minutes=7))
    api_budget().record_call(area="reports", member=budget_member_key(reporter), job="",
                             attempts=37)
    return workspace, roles, ana


def test_an_admin_creates_an_agent_copies_its_key_once_rotates_and_revokes_it(page, team):
    workspace, _, ana = team
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, workspace)

    page.get_by_role("link", name="Agents", exact=True).first.click()
    page.wait_for_url(f"**/w/{workspace.slug}/team/agents/")
    page.get_by_role("link", name="New agent").click()
    page.get_by_label("Name", exact=True).fill("Newsletter bot")
    page.get_by_label("Owner", exact=True).select_option(label="Ana Lima (ana@example.com) · Editor")
    page.get_by_label("Role", exact=True).select_option(label="Admin")  # more than Ana holds
    page.get_by_label("Share of the daily API quota (%)").fill("10")
    page.get_by_label("Test-send recipients").fill("qa@example.com\nnot-an-address")
    page.locator("details.agent-endpoints summary").click()
    page.get_by_label("contacts.list · GET /contacts", exact=True).check()
    page.get_by_label("contacts.get · GET /contacts/{contact_id}", exact=True).check()
    page.get_by_role("button", name="Create agent and show its key").click()

    # A bad address is refused, with the line it was on; nothing is made.
    page.get_by_text("Not an email address: line 2 (not-an-address).").wait_for()
    assert not Agent.objects.filter(name="Newsletter bot").exists()
    page.get_by_label("Test-send recipients").fill("qa@example.com")
    shoot(page, "agents", "create")
    page.get_by_role("button", name="Create agent and show its key").click()

    page.get_by_role("heading", name="Agent Newsletter bot created").wait_for()
    key = page.get_by_label("Key for Newsletter bot").input_value()
    agent = agent_for_key(key)
    assert agent is not None and agent.name == "Newsletter bot" and agent.owner == ana
    assert agent.allowed_endpoints == ["contacts.list", "contacts.get"]
    assert page.get_by_text(f'"CCADMIN_AGENT_KEY": "{key}"').count() == 1
    shoot(page, "agents", "key-once")

    page.get_by_role("link", name="I have copied it: go to the agent").click()
    page.get_by_role("heading", name="What it may do").wait_for()
    assert key not in page.content()
    row = page.locator("table.agent-grants tr", has_text="Account")
    assert "Read, capped by owner's role" in row.inner_text()
    shoot(page, "agents", "detail")

    page.get_by_role("button", name="Rotate key").click()
    page.get_by_role("heading", name="New key for Newsletter bot").wait_for()
    new_key = page.get_by_label("Key for Newsletter bot").input_value()
    assert new_key != key and agent_for_key(key) is None and agent_for_key(new_key) == agent

    page.goto(f"/w/{workspace.slug}/team/agents/{agent.pk}/")
    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("is revoked: every call with its key is refused").wait_for()
    agent.refresh_from_db()
    assert agent.status == "Revoked"

    page.goto(f"/w/{workspace.slug}/team/agents/")
    listing = page.locator("table.agent-table").inner_text()
    assert "Newsletter bot" in listing and "Revoked" in listing
    assert "Weekly report script" in listing and "37 of" in listing
    shoot(page, "agents", "list")

    # The API budget names the agent on its own line, its cap beside it.
    page.goto(f"/w/{workspace.slug}/constant-contact/budget/")
    by_member = page.locator("#by-member-heading + table").inner_text()
    assert "Agent Weekly report script · owner ana@example.com" in by_member
    assert "Cap 200 calls a day (2% of the quota)" in by_member
    shoot(page, "agents", "budget")
    # The audit log says who did what to it, in words.
    page.goto(f"/w/{workspace.slug}/audit/")
    assert "Revoked agent" in page.locator("table.audit-table").inner_text()
    shoot(page, "agents", "audit")
    assert errors == []
