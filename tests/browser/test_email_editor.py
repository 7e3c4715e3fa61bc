"""In real Chromium against the live simulator: a campaign from a gallery template,
a text block edited in the visual editor (GrapesJS), saved, and the change seen in
the sandboxed preview; the tracking image and footer survive, opening the editor
and saving without a change does not rewrite the HTML, and the source mode is
there for experts. No console error on the way (the editor's CSP needs are
documented in docs/email-editor.md and any new one would show here first), and
axe-core finds nothing serious on the gallery, the visual editor or the source
mode (GrapesJS's unnamed canvas and state select, and two low-contrast labels,
are fixed by static/js/email-editor.js and static/css/email-editor.css)."""

import pytest

from apps.campaigns.html_checks import html_problems
from apps.mirror.models import Campaign
from tests.browser.support import shoot
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

NAME = "Autumn newsletter"
NEW_HEADING = "Our biggest autumn yet"


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_a_campaign_from_a_template_edited_visually(browser, live_server, synced_world):  # noqa: F811
    world = synced_world
    slug = world.workspace.slug
    errors: list[str] = []
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(world.editor.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url("**/w/*/")

        # The list's "New campaign" opens the gallery.
        page.goto(f"/w/{slug}/campaigns/")
        page.get_by_role("link", name="New campaign").click()
        page.wait_for_url(f"**/w/{slug}/campaigns/new/templates/")
        page.get_by_role("heading", name="Event invitation").wait_for()
        shoot(page, "editor", "gallery")
        assert serious_violations(page) == []  # axe-core: nothing serious or critical

        # A boosted click still lands on a page of its own (the editor's CSP).
        page.get_by_role("link", name="Use the Newsletter template").click()
        page.wait_for_url("**/campaigns/new/?template=newsletter")
        canvas = page.frame_locator(".email-editor-canvas iframe.gjs-frame")
        heading = canvas.get_by_role("heading", name="The first story")
        heading.wait_for()
        assert page.get_by_role("button", name="Visual editor").get_attribute(
            "aria-pressed") == "true"

        # Edit the first story's heading: double-click starts GrapesJS's text editing.
        heading.dblclick()
        page.keyboard.press("Control+A")
        page.keyboard.type(NEW_HEADING)
        # Selecting another block ends the text editing, which commits the change.
        canvas.get_by_text("Here is what happened this month").click()
        canvas.get_by_role("heading", name=NEW_HEADING).wait_for()
        page.wait_for_function(
            "words => document.querySelector('textarea[name=html_content]').value.includes(words)",
            arg=NEW_HEADING,
        )
        shoot(page, "editor", "visual-editor")
        assert serious_violations(page) == []  # axe-core: nothing serious or critical

        # The code view (CodeMirror) and GrapesJS's preview run under the same CSP
        # without complaint (no eval: a refusal would be a console error).
        page.locator('.gjs-pn-btn[title="View code"]').click()
        page.locator(".gjs-mdl-dialog .CodeMirror").first.wait_for()
        page.locator(".gjs-mdl-btn-close").click()
        page.locator('.gjs-pn-btn[title="Preview"]').click()
        page.locator(".gjs-off-prv").click()  # back from the preview

        page.get_by_label("Campaign name").fill(NAME)
        page.get_by_label("From name").fill("Acme Marketing")
        page.get_by_label("From address").select_option("news@ccsim-demo.example")
        page.get_by_label("Reply-to address").select_option("news@ccsim-demo.example")
        page.get_by_label("Subject").fill("Autumn news")
        page.get_by_role("button", name="Create draft").click()
        page.get_by_text(f"Draft “{NAME}” created.").wait_for()

        campaign = Campaign.objects.select_related("email").get(name=NAME)
        html = campaign.email.html_content
        assert NEW_HEADING in html
        assert "The first story" not in html
        assert html_problems(html) == []  # the tracking image is still inside <body>
        assert 'class="email-footer' in html
        assert "Constant Contact adds our postal address" in html
        with world.sim.state.lock:
            upstream = world.sim.state.campaign_activities[campaign.primary_activity_id]
            assert upstream["html_content"] == html

        # The preview shows the change, in its sandbox.
        page.get_by_role("link", name="Preview").click()
        page.wait_for_url(f"**/campaigns/{campaign.pk}/preview/")
        page.frame_locator("iframe").first.get_by_role("heading", name=NEW_HEADING).wait_for()

        # Opening the editor and saving without touching the email keeps its bytes.
        page.goto(f"/w/{slug}/campaigns/{campaign.pk}/edit/")
        page.frame_locator(".email-editor-canvas iframe.gjs-frame").get_by_role(
            "heading", name=NEW_HEADING).wait_for()
        page.get_by_label("Subject").fill("Autumn news, again")
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_text(f"“{NAME}” saved.").wait_for()
        campaign.email.refresh_from_db()
        assert campaign.email.subject == "Autumn news, again"
        assert campaign.email.html_content == html

        # HTML source mode, for experts: the plain textarea with the produced HTML.
        page.goto(f"/w/{slug}/campaigns/{campaign.pk}/edit/")
        page.frame_locator(".email-editor-canvas iframe.gjs-frame").get_by_role(
            "heading", name=NEW_HEADING).wait_for()
        page.get_by_role("button", name="HTML source").click()
        source = page.get_by_label("HTML content")
        source.wait_for()
        assert NEW_HEADING in source.input_value()
        shoot(page, "editor", "source-mode")
        assert serious_violations(page) == []  # axe-core: nothing serious or critical

        # A body over Constant Contact's limit is stopped with the limit in words.
        source.evaluate("el => { el.value = el.value.replace('</body>',"
                        " '<p>' + 'x'.repeat(150000) + '</p></body>') }")
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_role("alert").filter(
            has_text="Constant Contact accepts at most 150,000").wait_for()
        campaign.email.refresh_from_db()
        assert campaign.email.html_content == html

        assert errors == []
    finally:
        context.close()
