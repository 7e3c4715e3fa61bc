"""A contact's page: every field from the mirror, custom fields by label, lists,
tags, phones, addresses, notes and status — read without calling Constant Contact."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from tests.contacts.contact_support import mirror_collections, mirror_contact, seed_rich_contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(connected_world):
    mirror_collections(connected_world)
    return mirror_contact(connected_world, seed_rich_contact(connected_world)["contact_id"])


def detail(client, cw, contact, who="viewer"):
    client.force_login(cw.user(who))
    return client.get(reverse("contacts:contact_detail", kwargs={
        "workspace_slug": cw.workspace.slug, "contact_id": contact.pk}))


def test_it_shows_everything_from_the_mirror(client, connected_world, rich):
    calls = AuditEvent.objects.filter(action__startswith="cc.").count()
    response = detail(client, connected_world, rich)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Rita Rich", "rich.person@example.com", "Buyer", "Globex", "April 12",
                 "2015-06-01", "555-100-2000", "555-300-4000", "Boston", "Denver",
                 "Favorite Color", "teal", "Loyalty Points", "1200", "Newsletter", "VIP",
                 "lead", "high-value", "Met at the trade show.", "Prefers email.",
                 "5551234567", rich.cc_id, "Subscribed (implicit)"):
        assert text in html, text
    assert AuditEvent.objects.filter(action__startswith="cc.").count() == calls  # no API call


def test_an_unsubscribed_contact_says_when_and_why(client, connected_world, rich):
    rich.email_status = "unsubscribed"
    rich.opt_out_reason = "Too many emails"
    rich.opt_out_source = "Contact"
    rich.save()
    html = detail(client, connected_world, rich).content.decode()
    assert "Unsubscribed" in html and "Too many emails" in html and "by the contact" in html


def test_a_removed_contact_offers_no_changes(client, connected_world, rich):
    rich.deleted_upstream = "2024-03-01T00:00:00Z"
    rich.save()
    html = detail(client, connected_world, rich, who="editor").content.decode()
    assert "Removed" in html and "1 Mar 2024" in html
    assert "Add to a list" not in html and ">Edit<" not in html


def test_editors_get_the_buttons_viewers_do_not(client, connected_world, rich):
    assert b">Edit<" in detail(client, connected_world, rich, who="editor").content
    assert b">Edit<" not in detail(client, connected_world, rich, who="viewer").content


def test_a_fixed_number_of_queries(client, connected_world, rich):
    client.force_login(connected_world.viewer)
    url = reverse("contacts:contact_detail", kwargs={
        "workspace_slug": connected_world.workspace.slug, "contact_id": rich.pk})
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    assert len(ctx.captured_queries) <= 14


def test_the_same_number_of_queries_whether_or_not_the_contact_has_custom_fields(
    client, connected_world, rich
):
    # bench/pages.py counted 11 queries at 1k contacts and 12 at 1M: its contact had
    # no custom field values at 1k and one at 1M.
    plain = ContactFactory(workspace=connected_world.workspace, custom_fields=[])
    assert rich.custom_fields

    assert queries_of(client, connected_world, plain) == queries_of(client, connected_world, rich)


def queries_of(client, cw, contact) -> int:
    client.force_login(cw.viewer)
    url = reverse("contacts:contact_detail", kwargs={
        "workspace_slug": cw.workspace.slug, "contact_id": contact.pk})
    client.get(url)  # warm: the session and the count cache, as on a second visit
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)
