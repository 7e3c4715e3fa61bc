"""A form post larger than Django will read (DATA_UPLOAD_MAX_MEMORY_SIZE) gets a
page that says so, never a 400 with a traceback in the log (apps/core/uploads.py).
The campaign editor's own message is tested in tests/campaigns/test_campaigns_html_size.py."""

import logging

from django.test import override_settings
from django.urls import reverse


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_an_oversized_post_gets_a_413_page_and_nothing_changes(client, world, caplog):
    client.force_login(world.editor)
    before = world.editor.full_name

    with caplog.at_level(logging.WARNING):
        response = client.post(reverse("accounts_profile"),
                               {"full_name": "x" * 20_000, "time_zone": "UTC"},
                               headers={"X-CSRFToken": "token"})

    assert response.status_code == 413
    assert "That was too much to send at once" in response.content.decode()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    world.editor.refresh_from_db()
    assert world.editor.full_name == before


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_post_under_the_limit_is_untouched(client, world):
    client.force_login(world.editor)

    response = client.post(reverse("accounts_profile"),
                           {"full_name": "Eddie Editor", "time_zone": "UTC"})

    assert response.status_code in (200, 302)
    world.editor.refresh_from_db()
    assert world.editor.full_name == "Eddie Editor"
