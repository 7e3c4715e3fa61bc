"""In a real browser: the demo admin logs in, invites a member, and finds the
invitation in the audit log."""

import pytest
from django.core import mail

from apps.accounts.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, demo_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_invites_a_member_and_sees_it_in_the_audit_log(page):
    workspace = demo_ensure()

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(DEMO_ADMIN_EMAIL)
    page.get_by_label("Password").fill(DEMO_ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{workspace.slug}/")

    page.get_by_role("link", name="Team").click()
    page.get_by_label("Email").fill("newcomer@example.com")
    page.get_by_label("Role").select_option(label="Editor")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent to newcomer@example.com").wait_for()
    assert mail.outbox and mail.outbox[-1].to == ["newcomer@example.com"]

    page.get_by_role("link", name="Audit log").click()
    row = page.locator("tr", has_text="invitation.created")
    row.wait_for()
    assert "newcomer@example.com" in row.inner_text()
