"""In real Chromium: "Clear" on a filtered list gives back the whole, unfiltered page.

It used to be a boosted link inside the filter form, so it inherited the form's
htmx target: the whole page (top bar, side menu and all) landed inside the
results box, and on Contacts the old search words stayed in the box, where the
next list filter quietly applied them ("Beta testers" showed 1 match, not 104).
"""

import pytest

from apps.accounts.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, demo_ensure
from tests.factories import (
    AuditEventFactory,
    CampaignFactory,
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, workspace):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(DEMO_ADMIN_EMAIL)
    page.get_by_label("Password").fill(DEMO_ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{workspace.slug}/")


def clear_and_check(page, results_id: str) -> None:
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(lambda url: "?" not in url)
    page.locator(f"#{results_id}").wait_for()
    # One page, not a page inside a page.
    assert page.locator("header.topbar").count() == 1
    assert page.locator("nav.sidenav").count() == 1
    assert page.locator(f"#{results_id}").count() == 1


def test_clear_on_contacts_empties_the_search_so_a_list_filter_shows_all_its_members(page):
    workspace = demo_ensure()
    beta = ContactListFactory(workspace=workspace, name="Beta testers")
    for n in range(12):
        contact = ContactFactory(workspace=workspace, email=f"beta{n:02}@example.com",
                                 first_name="Bea", last_name=f"Tester{n}")
        ListMembershipFactory(contact=contact, contact_list=beta)
    ContactFactory(workspace=workspace, email="zed@example.com", first_name="Zed",
                   last_name="Outsider", search_text="zed outsider zed@example.com")

    log_in(page, workspace)
    page.goto(f"/w/{workspace.slug}/contacts/")
    # Every Content-Security-Policy refusal (an inline style or script) is counted.
    page.evaluate("""window.cspViolations = [];
        document.addEventListener('securitypolicyviolation',
            e => window.cspViolations.push(e.violatedDirective + ' ' + e.sourceFile));""")
    page.get_by_label("Search").fill("beta00")
    page.wait_for_url("**/contacts/?*q=beta00*")
    page.get_by_text("1 contact matches").wait_for()

    clear_and_check(page, "contact-results")
    assert page.get_by_label("Search").input_value() == ""

    page.get_by_label("List").select_option(label="Beta testers")
    page.get_by_text("12 contacts match").wait_for()
    page.get_by_label("Search").fill("bea")
    page.get_by_text("12 contacts match").wait_for()
    assert page.evaluate("window.cspViolations") == []


def test_clear_on_campaigns_gives_back_one_page(page):
    workspace = demo_ensure()
    CampaignFactory(workspace=workspace, name="Spring sale")
    CampaignFactory(workspace=workspace, name="Autumn news")

    log_in(page, workspace)
    page.goto(f"/w/{workspace.slug}/campaigns/?q=spring")
    page.get_by_text("1 campaign matches").wait_for()
    clear_and_check(page, "campaign-results")
    assert page.get_by_label("Name").input_value() == ""
    page.get_by_text("2 campaigns").wait_for()


def test_clear_on_the_audit_log_gives_back_one_page(page):
    workspace = demo_ensure()
    AuditEventFactory(workspace=workspace, action="contacts.get")

    log_in(page, workspace)
    page.goto(f"/w/{workspace.slug}/audit/?outcome=denied")
    page.locator("#audit-results").wait_for()
    clear_and_check(page, "audit-results")
