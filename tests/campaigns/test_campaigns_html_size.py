"""A campaign body over the limit always gets a clear answer on the form.

A 5 MB body is larger than Django will read (DATA_UPLOAD_MAX_MEMORY_SIZE): it used
to fail the CSRF check's read with a 400 and a traceback, and the page showed
nothing. It now gets the same 150,000-character message as a body just over the
limit, nothing is sent to Constant Contact, and nothing is logged as an error.
"""

import logging

import pytest

from apps.mirror.models import Campaign
from tests.campaigns.conftest import campaign_url
from tests.campaigns.test_campaigns_create import form_data
from tests.constantcontact.helpers_sim import RequestLog

LIMIT_WORDS = "Constant Contact accepts at most 150,000"


@pytest.fixture
def editor(login, synced_world):
    return login(synced_world.editor)


def body_of(size: int) -> str:
    return "<html><body>[[trackingImage]]" + "x" * size + "</body></html>"


def test_a_body_just_over_the_limit_gets_the_limit_message(editor, synced_world):
    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(html_content=body_of(150_001)))

    assert response.status_code == 200
    assert "The HTML is 150,044 characters long; " + LIMIT_WORDS in response.content.decode()
    assert not Campaign.objects.filter(name="Autumn news").exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_a_5_mb_body_gets_the_same_message_and_no_traceback(editor, synced_world, caplog, htmx):
    log = RequestLog(synced_world.sim)
    headers = {"HX-Request": "true", "HX-Boosted": "true", "X-CSRFToken": "token"} if htmx else {}

    with caplog.at_level(logging.WARNING):
        response = editor.post(campaign_url(synced_world, "campaign_create"),
                               form_data(html_content=body_of(5_000_000)), headers=headers)

    page = response.content.decode()
    if htmx:
        # htmx swaps a 200 in; it would show nothing for a 400.
        assert response.status_code == 200
        assert LIMIT_WORDS in page
        assert 'name="html_content"' in page  # the editor, ready for a shorter body
    else:
        # A plain form's CSRF token was in the dropped body: a page that says why.
        assert response.status_code == 413
        assert "too much to send" in page
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert [a.path for a in log.api() if a.method != "GET"] == []
    assert not Campaign.objects.filter(name="Autumn news").exists()


def test_a_5_mb_edit_keeps_the_saved_campaign_and_says_why(login, campaigns_world):
    campaign = Campaign.objects.get(workspace=campaigns_world.workspace, name="Draft: Winter Preview")
    response = login(campaigns_world.editor).post(
        campaign_url(campaigns_world, "campaign_edit", campaign_id=campaign.pk),
        form_data(html_content=body_of(5_000_000)),
        headers={"HX-Request": "true", "X-CSRFToken": "token"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert LIMIT_WORDS in page
    assert "Draft: Winter Preview" in page
