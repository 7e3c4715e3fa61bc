"""In real Chromium: an editor finds a contact by searching (the htmx swap of the
results), opens it, edits one custom field, and the change is in the simulator —
with everything the form didn't show still there."""

import pytest

from tests.conftest import PASSWORD
from tests.contacts.conftest import connected_world, sim, sim_contacts, sim_settings  # noqa: F401
from tests.contacts.contact_support import (
    mirror_all,
    seed_rich_contact,
    sim_contact,
    sim_field_ids,
    without_volatile,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_finds_a_contact_and_edits_a_custom_field(page, connected_world):  # noqa: F811
    cw = connected_world
    cc_id = seed_rich_contact(cw, email="rita.rich@example.com")["contact_id"]
    mirror_all(cw)
    before = sim_contact(cw, cc_id)
    # A CSP violation (an inline script or style slipping in) shows up as a console error.
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(cw.editor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"**/w/{cw.workspace.slug}/")

    page.goto(f"/w/{cw.workspace.slug}/contacts/")
    page.get_by_label("Search").fill("rita.r")
    result = page.get_by_role("link", name="rita.rich@example.com")
    result.wait_for()
    # The search swapped the results in place and put the query in the address bar.
    page.wait_for_url("**/contacts/?*q=rita.r*")
    assert page.locator("#contact-results tbody tr").count() == 1
    result.click()

    page.get_by_role("heading", name="Rita Rich").wait_for()
    page.get_by_role("link", name="Edit", exact=True).click()
    plan = page.get_by_label("Plan", exact=True)
    assert plan.input_value() == "Gold"
    plan.fill("Platinum")
    page.get_by_role("button", name="Save", exact=True).click()

    page.get_by_text("Saved rita.rich@example.com.").wait_for()
    after = sim_contact(cw, cc_id)
    plan_id = sim_field_ids(cw)["Plan"]
    assert {"custom_field_id": plan_id, "value": "Platinum"} in after["custom_fields"]
    expected = without_volatile(before)
    expected["custom_fields"] = [
        {**v, "value": "Platinum"} if v["custom_field_id"] == plan_id else v
        for v in expected["custom_fields"]
    ]
    assert without_volatile(after) == expected
    # The contact's page shows the new value from the mirror.
    assert page.locator("text=Platinum").count() >= 1
    assert console_errors == []
