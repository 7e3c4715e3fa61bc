"""The email editor: the gallery of shipped templates, the draft editor's own CSP,
and what the visual editor produces going through the same form as hand-written
HTML — tracking image and footer kept, approvals voided by a change, the size
limit with its message.

`editor_output.html` beside this file is what GrapesJS with the newsletter preset
produced (through static/js/email-editor.js, in Chromium) from the Newsletter
template after one text edit: the real shape the server receives.
"""

from pathlib import Path

import pytest

from apps.campaigns.fingerprint import fingerprint, outgoing_snapshot
from apps.campaigns.gallery import GALLERY, email_template
from apps.campaigns.html_checks import TRACKING_IMAGE, html_problems
from apps.campaigns.models import Approval
from apps.mirror.models import Campaign
from tests.campaigns.conftest import campaign_url
from tests.campaigns.test_campaigns_create import form_data, sim_campaign_named
from tests.factories import ApprovalFactory

EDITOR_OUTPUT = (Path(__file__).parent / "editor_output.html").read_text(encoding="utf-8")
EDITED_WORDS = "Our biggest autumn yet"  # the text edited in the visual editor
LIMIT_WORDS = "Constant Contact accepts at most 150,000"


def csp_of(response) -> dict[str, set[str]]:
    """The response's policy as {directive: sources}, the per-request nonce masked."""
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        policy[name] = {"'nonce-…'" if s.startswith("'nonce-") else s for s in sources}
    return policy


@pytest.fixture
def editor(login, synced_world):
    return login(synced_world.editor)


# --- The gallery ------------------------------------------------------------------

@pytest.mark.parametrize("template", GALLERY, ids=lambda t: t.slug)
def test_every_shipped_template_passes_the_checks_with_its_footer(template):
    html = template.html

    assert html_problems(html) == []
    assert html.count(TRACKING_IMAGE) == 1
    assert 'class="email-footer"' in html
    assert "Constant Contact adds our postal address and an unsubscribe link" in html
    # Responsive: a phone gets the phone layout.
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media only screen and (max-width:" in html


def test_the_gallery_offers_every_template_and_your_own_html(editor, synced_world):
    response = editor.get(campaign_url(synced_world, "campaign_gallery"))

    page = response.content.decode()
    create = campaign_url(synced_world, "campaign_create")
    assert response.status_code == 200
    for template in GALLERY:
        assert template.name in page
        assert f'href="{create}?template={template.slug}"' in page
    assert f'href="{create}">Start with HTML</a>' in page
    assert 'sandbox=""' in page


def test_the_campaign_list_starts_a_new_campaign_at_the_gallery(editor, synced_world):
    page = editor.get(campaign_url(synced_world, "campaign_list")).content.decode()

    assert f'href="{campaign_url(synced_world, "campaign_gallery")}">New campaign' in page


def test_a_viewer_gets_no_gallery(login, synced_world):
    viewer = login(synced_world.viewer)

    assert viewer.get(campaign_url(synced_world, "campaign_gallery")).status_code == 403
    assert viewer.get(campaign_url(synced_world, "campaign_template_html",
                                   slug="newsletter")).status_code == 403


def test_a_thumbnail_is_the_template_in_a_sandbox(editor, synced_world):
    response = editor.get(campaign_url(synced_world, "campaign_template_html", slug="event"))

    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "Reserve my place" in response.content.decode()
    assert TRACKING_IMAGE not in response.content.decode()
    assert editor.get(campaign_url(synced_world, "campaign_template_html",
                                   slug="nope")).status_code == 404


def test_a_template_opens_the_form_with_its_html_in_the_visual_editor(editor, synced_world):
    url = campaign_url(synced_world, "campaign_create") + "?template=event"

    page = editor.get(url).content.decode()

    assert "Starting from the <strong>Event invitation</strong> template." in page
    assert "Reserve my place" in page  # inside the textarea, the form's only copy
    assert 'data-mode="visual"' in page
    assert 'hx-boost="false"' in page


@pytest.mark.parametrize("query", ["", "?template=nope"])
def test_your_own_html_opens_the_blank_document_in_source_mode(editor, synced_world, query):
    page = editor.get(campaign_url(synced_world, "campaign_create") + query).content.decode()

    assert "Starting from your own HTML." in page
    assert 'data-mode="source"' in page
    assert "<h1>Hello</h1>" in page.replace("&lt;", "<").replace("&gt;", ">")


# --- The editor page's CSP ------------------------------------------------------

def test_the_editor_page_adds_only_the_documented_sources(editor, campaigns_world):
    draft = Campaign.objects.get(name="Draft: Winter Preview")
    strict = csp_of(editor.get(campaign_url(campaigns_world, "campaign_list")))
    pages = [campaign_url(campaigns_world, "campaign_create") + "?template=newsletter",
             campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk)]

    for url in pages:
        relaxed = csp_of(editor.get(url))
        assert relaxed.keys() == strict.keys()
        changed = {name: relaxed[name] - strict[name]
                   for name in strict if relaxed[name] != strict[name]}
        # docs/email-editor.md, "The editor page's CSP": exactly these two additions.
        assert changed == {"style-src": {"'unsafe-inline'"}, "img-src": {"https:"}}
        assert all(strict[name] <= relaxed[name] for name in strict)
        assert "'unsafe-eval'" not in relaxed["script-src"]


@pytest.mark.parametrize("name", ["campaign_list", "campaign_gallery"])
def test_other_campaign_pages_keep_the_strict_policy(editor, synced_world, name):
    policy = csp_of(editor.get(campaign_url(synced_world, name)))

    assert policy["style-src"] == {"'self'"}
    assert policy["img-src"] == {"'self'", "data:"}
    assert policy["script-src"] == {"'self'", "'nonce-…'"}


def test_the_page_after_saving_has_the_strict_policy_again(editor, synced_world):
    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(html_content=EDITOR_OUTPUT), follow=True)

    assert response.redirect_chain  # to the new campaign's page
    assert csp_of(response)["style-src"] == {"'self'"}


def test_an_htmx_visit_of_the_editor_becomes_a_full_page_load(editor, synced_world):
    url = campaign_url(synced_world, "campaign_create") + "?template=letter"

    response = editor.get(url, headers={"HX-Request": "true", "HX-Boosted": "true"})

    # The relaxed header only counts on a page of its own, never swapped into another.
    assert response.status_code == 200
    assert response["HX-Redirect"] == url
    assert response.content == b""


# --- What the visual editor produces -------------------------------------------

def test_the_editor_output_fixture_is_what_grapesjs_makes():
    # Inlined CSS and the media queries moved to the head: the preset's export.
    assert 'style="' in EDITOR_OUTPUT
    assert EDITED_WORDS in EDITOR_OUTPUT
    assert EDITOR_OUTPUT.index("@media") < EDITOR_OUTPUT.index("</head>")


def test_saving_editor_output_keeps_the_tracking_image_and_footer(editor, synced_world):
    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(html_content=EDITOR_OUTPUT))

    assert response.status_code == 302
    stored = Campaign.objects.get(name="Autumn news").email.html_content
    upstream = sim_campaign_named(synced_world, "Autumn news")["activity"]["html_content"]
    for html in (stored, upstream):
        assert html == EDITOR_OUTPUT
        assert html_problems(html) == []
        assert 'class="email-footer' in html
        assert "Constant Contact adds our postal address" in html


def test_the_preview_shows_what_the_editor_produced(editor, synced_world):
    editor.post(campaign_url(synced_world, "campaign_create"),
                form_data(html_content=EDITOR_OUTPUT))
    campaign = Campaign.objects.get(name="Autumn news")

    response = editor.get(campaign_url(synced_world, "campaign_preview_html",
                                       campaign_id=campaign.pk))

    assert response["Content-Security-Policy"].startswith("sandbox;")
    body = response.content.decode()
    assert EDITED_WORDS in body
    assert TRACKING_IMAGE not in body  # Constant Contact's pixel goes there


def test_an_edit_in_the_editor_changes_the_fingerprint_and_voids_the_approval(
        login, campaigns_world):
    client = login(campaigns_world.editor)
    draft = Campaign.objects.select_related("email").get(name="Draft: Winter Preview")
    url = campaign_url(campaigns_world, "campaign_edit", campaign_id=draft.pk)
    email = draft.email
    fields = {"from_name": email.from_name, "from_email": email.from_email,
              "reply_to_email": email.reply_to_email, "subject": email.subject,
              "preheader": email.preheader, "contact_list_ids": list(email.contact_list_ids),
              "planned_send_at": ""}
    client.post(url, {**fields, "html_content": EDITOR_OUTPUT})
    draft.email.refresh_from_db()
    before = fingerprint(outgoing_snapshot(draft.email))
    approval = ApprovalFactory(campaign=draft, decision=Approval.Decision.APPROVED,
                               requested_by=campaigns_world.editor,
                               decided_by=campaigns_world.admin)

    edited = EDITOR_OUTPUT.replace(EDITED_WORDS, "Our biggest autumn ever")
    response = client.post(url, {**fields, "html_content": edited})

    assert response.status_code == 302
    draft.email.refresh_from_db()
    assert draft.email.html_content == edited
    assert fingerprint(outgoing_snapshot(draft.email)) != before
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.VOIDED


def test_an_editor_body_over_the_limit_gets_the_limit_message(editor, synced_world):
    # A member can paste a very long text (or an image as a data: URI) into a block.
    filler = "<p>" + "Long words. " * 13_000 + "</p>"
    produced = EDITOR_OUTPUT.replace("</body>", filler + "</body>")
    assert len(produced) > 150_000

    response = editor.post(campaign_url(synced_world, "campaign_create") + "?template=newsletter",
                           form_data(html_content=produced))

    page = response.content.decode()
    assert response.status_code == 200
    assert f"The HTML is {len(produced):,} characters long; {LIMIT_WORDS}" in page
    assert 'data-mode="visual"' in page  # back in the editor, with the member's work
    assert not Campaign.objects.filter(name="Autumn news").exists()


def test_the_template_a_campaign_started_from_is_a_valid_email_as_it_is(editor, synced_world):
    # Saved without ever opening the visual editor (source mode, or no JavaScript).
    html = email_template("announcement").html

    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(html_content=html))

    assert response.status_code == 302
    assert Campaign.objects.get(name="Autumn news").email.html_content == html
