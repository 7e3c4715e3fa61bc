"""The overview as the team's daily home: each card only for roles that read its
area, every number from the mirror and the caches (no call to Constant
Contact), and a next step wherever a card is empty."""

import re

from django.urls import reverse
import pytest

from apps.accounts.models import Role
from apps.constantcontact.gate import ConstantContact
from tests.dashboard.populate import SENT, populate
from tests.factories import (
    ApprovalFactory,
    CampaignFactory,
    EmailActivityFactory,
    MembershipFactory,
    UserFactory,
)


def _home(world) -> str:
    return reverse("dashboard:home", kwargs={"workspace_slug": world.workspace.slug})


def _page(client, world, user) -> str:
    client.force_login(user)
    response = client.get(_home(world))
    assert response.status_code == 200
    return response.content.decode()


def _member_with(world, *, email: str, grants: dict, can_approve=False, can_send=False):
    role = Role.objects.create(workspace=world.workspace, name=f"Role for {email}",
                               grants=grants, can_approve=can_approve, can_send=can_send)
    user = UserFactory(email=email)
    MembershipFactory(workspace=world.workspace, user=user, role=role)
    return user


EVERYTHING_READ = {area: "read" for area in (
    "contacts", "lists", "tags", "custom_fields", "segments", "bulk", "campaigns", "reports",
    "account")}


@pytest.fixture
def populated(world):
    return populate(world)


@pytest.fixture(autouse=True)
def _no_upstream(monkeypatch):
    """The overview never calls Constant Contact: any call through the gate fails the test."""
    def refuse(self, name, **kwargs):
        raise AssertionError(f"the overview called Constant Contact: {name}")

    monkeypatch.setattr(ConstantContact, "call", refuse)


def test_the_admin_sees_every_card_with_real_numbers(client, world, populated):
    html = _page(client, world, world.admin)

    assert 'data-connection="connected"' in html
    assert "Acme Outdoor Co." in html
    for label in ("Contacts, lists and tags", "Campaigns", "Segments", "Reports"):
        assert label in html
    assert "4\xa0minutes ago" in html or "4 minutes ago" in html
    # Thousands separators, and the share that can be emailed (8 of every 10).
    assert '<span class="stat-value" data-count="contacts">1,234</span>' in html
    assert "80.1&nbsp;%" in html  # 988 of 1,234
    assert '<span class="stat-value" data-count="lists">3</span>' in html
    # Waiting for my review: the editor's drafts, linked to their review page.
    campaign = populated.in_review[0]
    assert f"/campaigns/{campaign.pk}/review/" in html
    # Scheduled sends, recent sends with rates, the running import, budget, activity.
    assert "Spring sale" in html and "to Newsletter, VIP customers" in html
    assert SENT[0] in html and "Opened" in html and "Opted out" in html
    assert f"/reports/campaigns/{populated.sent[0].pk}/" in html
    assert "Import of trade-show-leads.csv into Newsletter" in html
    assert 'value="62"' in html  # 1,500 of 2,400 done
    assert "API budget today" in html
    assert "Recent activity" in html
    assert "Approved campaign “Spring sale”" in html


def test_a_viewer_without_reports_read_sees_no_rates(client, world, populated):
    user = _member_with(world, email="noreports@example.com",
                        grants={**EVERYTHING_READ, "reports": "none"})
    html = _page(client, world, user)
    assert "Recent sends" not in html
    assert "Opened" not in html and SENT[0] not in html
    assert "/reports/" not in html
    assert 'data-scope="reports"' not in html
    # The rest is still there.
    assert "Scheduled sends" in html


def test_without_campaigns_read_there_is_no_review_card_even_for_an_approver(
        client, world, populated):
    user = _member_with(world, email="nocampaigns@example.com",
                        grants={**EVERYTHING_READ, "campaigns": "none"}, can_approve=True)
    html = _page(client, world, user)
    assert "Waiting for your review" not in html
    assert "Scheduled sends" not in html
    assert "Summer launch" not in html and "Spring sale" not in html


def test_a_member_who_cannot_approve_gets_no_review_card(client, world, populated):
    html = _page(client, world, world.viewer)
    assert "Waiting for your review" not in html
    assert "Scheduled sends" in html


def test_an_approver_sees_others_reviews_but_not_their_own(client, world, populated):
    own = CampaignFactory(workspace=world.workspace, name="My own draft", author=world.approver)
    EmailActivityFactory(campaign=own)
    ApprovalFactory(campaign=own, requested_by=world.approver)

    html = _page(client, world, world.approver)
    assert "Waiting for your review" in html
    assert "Summer launch" in html
    assert "asked by" in html
    assert "My own draft" not in html


def test_without_account_read_no_connection_budget_or_team_activity(client, world, populated):
    user = _member_with(world, email="noaccount@example.com",
                        grants={**EVERYTHING_READ, "account": "none"})
    html = _page(client, world, user)
    assert "data-connection" not in html
    assert "API budget" not in html
    assert "Acme Outdoor Co." not in html
    # Freshness is still said, for the areas they read.
    assert "How fresh the data is" in html
    # Only their own activity: the approver's approval is not theirs.
    assert "Your recent activity" in html
    assert "Approved campaign" not in html


def test_without_bulk_read_no_jobs(client, world, populated):
    user = _member_with(world, email="nobulk@example.com",
                        grants={**EVERYTHING_READ, "bulk": "none"})
    html = _page(client, world, user)
    assert "Running jobs" not in html
    assert "trade-show-leads" not in html


def test_without_contacts_or_lists_read_no_counts(client, world, populated):
    user = _member_with(world, email="nocontacts@example.com",
                        grants={**EVERYTHING_READ, "contacts": "none", "lists": "none"})
    html = _page(client, world, user)
    assert 'data-count="contacts"' not in html
    assert 'data-count="lists"' not in html
    assert "1,234" not in html


def test_activity_leaves_out_plain_api_calls(client, world, populated):
    html = _page(client, world, world.admin)
    activity = html[html.index('id="activity"'):]
    assert "Read contact" not in activity
    assert "Asked for review" in activity


def test_an_empty_new_workspace_says_what_to_do_next(client, world):
    html = _page(client, world, world.admin)
    assert 'data-connection="not_connected"' in html
    assert "Connect Constant Contact" in html
    assert "Nothing has been synced yet" in html
    assert "the first sync starts by itself once the account is connected" in html
    assert '<span class="stat-value" data-count="contacts">0</span>' in html
    assert "Import contacts" in html
    assert "Nothing waits for your review" in html
    assert "Nothing is scheduled for the next 14 days" in html
    assert "Draft a campaign" in html
    assert "No sent campaign has a report yet" in html
    assert "No bulk job is running" in html


def test_a_viewer_of_an_empty_workspace_is_told_who_can_act(client, world):
    html = _page(client, world, world.viewer)
    assert "Ask an admin of this workspace to connect it" in html
    assert "Connect Constant Contact</a>" not in html
    assert "Draft a campaign" not in html
    assert "Import contacts" not in html


def test_a_scope_never_synced_on_a_working_connection_says_so_on_its_own_line(client, world):
    from tests.dashboard.populate import connect

    connect(world.workspace)
    html = _page(client, world, world.admin)
    assert "Never synced" in html
    assert "Nothing has been synced yet" not in html


def test_no_area_is_presented_as_not_built(client, world):
    html = _page(client, world, world.admin)
    assert "Not built yet" not in html
    assert not re.search(r"will hold", html)
