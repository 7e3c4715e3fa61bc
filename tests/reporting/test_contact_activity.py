"""A contact's email activity on the contact page, from the reports cache: what it
shows agrees with the events Constant Contact reported for that contact, it needs
reports read as well as contacts read, and it costs the same queries however long
the contact's history."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
import pytest

from apps.mirror.models import Contact, TrackingEvent
from apps.mirror.selectors.tracking import contact_activity


@pytest.fixture
def sim_contacts() -> int:
    return 120


def _contact_url(world, contact: Contact) -> str:
    return reverse("contacts:contact_detail",
                   kwargs={"workspace_slug": world.workspace.slug, "contact_id": contact.pk})


def _an_opener(world) -> Contact:
    opener = TrackingEvent.objects.filter(workspace=world.workspace, kind="open").values_list(
        "contact_cc_id", flat=True).first()
    return Contact.objects.get(workspace=world.workspace, cc_id=opener)


def test_the_contact_page_shows_the_contacts_sends_and_opens(reports_world, client):
    contact = _an_opener(reports_world)
    activity = contact_activity(workspace=reports_world.workspace, contact_cc_id=contact.cc_id)
    sends = TrackingEvent.objects.filter(workspace=reports_world.workspace,
                                         contact_cc_id=contact.cc_id, kind="send").count()
    assert activity.sent == sends >= 1
    assert activity.opened >= 1
    client.force_login(reports_world.viewer)
    page = client.get(_contact_url(reports_world, contact))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Email activity" in body
    assert f"Sent {sends} campaign" in body and "opened" in body


def test_without_reports_read_the_contact_page_has_no_activity(reports_world, client):
    role = reports_world.roles["viewer"]
    role.grants = {**role.grants, "reports": "none"}
    role.save()
    client.force_login(reports_world.viewer)
    page = client.get(_contact_url(reports_world, _an_opener(reports_world)))
    assert page.status_code == 200
    assert b"Email activity" not in page.content


def test_the_activity_read_is_two_queries_at_any_history_length(reports_world):
    contact = _an_opener(reports_world)
    with CaptureQueriesContext(connection) as queries:
        contact_activity(workspace=reports_world.workspace, contact_cc_id=contact.cc_id)
    assert len(queries) == 2


def test_read_activity_now_brings_one_contact_up_to_date_in_a_few_calls(reports_world, client):
    world = reports_world
    contact = _an_opener(world)
    events = TrackingEvent.objects.filter(workspace=world.workspace, contact_cc_id=contact.cc_id)
    before = sorted(events.values_list("activity_id", "kind", "occurred_at"))
    events.delete()  # as if no campaign refresh had read this contact yet
    client.force_login(world.viewer)
    url = reverse("contacts:contact_activity_read",
                  kwargs={"workspace_slug": world.workspace.slug, "contact_id": contact.pk})
    page = client.post(url, follow=True)
    assert page.status_code == 200
    assert b"Email activity read from Constant Contact" in page.content
    after = sorted(events.values_list("activity_id", "kind", "occurred_at"))
    assert after == before  # every send, open, click, bounce and opt-out, at its moment
    # Read again: nothing new, nothing doubled.
    client.post(url)
    assert events.count() == len(before)


def test_read_activity_now_needs_reports_read_as_well(reports_world, client):
    role = reports_world.roles["viewer"]
    role.grants = {**role.grants, "reports": "none"}
    role.save()
    client.force_login(reports_world.viewer)
    contact = _an_opener(reports_world)
    url = reverse("contacts:contact_activity_read",
                  kwargs={"workspace_slug": reports_world.workspace.slug, "contact_id": contact.pk})
    assert client.post(url).status_code == 403
