"""In real Chromium: the first screen after "Create account and join" has the full
app layout, not the narrow column of the public pages.

The sign-up form is a public page (body class "public": a 26rem card), and a
boosted submit swaps only the body's contents, so the app page that followed
kept the public class and its main column was about 128 px wide until a reload.
"""

import pytest

from tests.factories import InvitationFactory, WorkspaceFactory, preset_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_first_page_after_joining_has_the_full_width_layout(page):
    workspace = WorkspaceFactory(name="Acme Marketing")
    InvitationFactory(workspace=workspace, email="newcomer@example.com",
                      role=preset_role(workspace, "editor"), token="join-me-please")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/invitations/join-me-please/")
    page.get_by_label("Full name").fill("Nina Newcomer")
    page.get_by_label("Password", exact=True).fill("a long and unusual passphrase 42")
    page.get_by_label("Password (again)").fill("a long and unusual passphrase 42")
    page.get_by_role("button", name="Create account and join").click()
    page.wait_for_url(f"**/w/{workspace.slug}/")
    page.locator("nav.sidenav").wait_for()

    assert "public" not in (page.locator("body").get_attribute("class") or "")
    width = page.locator("main").evaluate("el => el.getBoundingClientRect().width")
    assert width > 700, f"the main column is {width:.0f} px wide"
