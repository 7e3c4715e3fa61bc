"""Adding a contact to and removing it from lists and tags on its page, by
get-merge-put: the rest of the contact survives, the mirror follows."""

from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from apps.mirror.models import Contact, ContactList, Tag
from tests.contacts.contact_support import (
    mirror_collections,
    mirror_contact,
    seed_rich_contact,
    sim_contact,
    sim_list_ids,
    sim_tag_ids,
    without_volatile,
)
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(connected_world) -> Contact:
    mirror_collections(connected_world)
    return mirror_contact(connected_world, seed_rich_contact(connected_world)["contact_id"])


@pytest.fixture
def editor(client, connected_world):
    client.force_login(connected_world.editor)
    return client


def url(cw, name: str, contact, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": cw.workspace.slug,
                                               "contact_id": contact.pk, **kwargs})


def test_the_page_offers_the_lists_and_tags_it_isnt_on(connected_world, rich, editor):
    response = editor.get(url(connected_world, "contact_detail", rich))
    detail = response.context["detail"]
    assert {lst.name for lst in detail.lists} == {"Newsletter", "VIP"}
    assert "Newsletter" not in {lst.name for lst in detail.lists_to_add}
    assert {t.name for t in detail.tags} == {"lead", "high-value"}
    assert b"Add to a list" in response.content


def test_adding_to_a_list_keeps_everything_else(connected_world, rich, editor):
    before = sim_contact(connected_world, rich.cc_id)
    events = ContactList.objects.get(name="Events")

    response = editor.post(url(connected_world, "contact_list_add", rich), {"list": events.pk})

    assert response.status_code == 302
    after = sim_contact(connected_world, rich.cc_id)
    lists = sim_list_ids(connected_world)
    assert after["list_memberships"] == [lists["Newsletter"], lists["VIP"], lists["Events"]]
    expected = without_volatile(before)
    expected["list_memberships"] = after["list_memberships"]
    assert without_volatile(after) == expected
    assert set(rich.lists.values_list("name", flat=True)) == {"Newsletter", "VIP", "Events"}


def test_removing_from_a_list(connected_world, rich, editor):
    vip = ContactList.objects.get(name="VIP")
    response = editor.post(url(connected_world, "contact_list_remove", rich, list_id=vip.pk))
    assert response.status_code == 302
    assert sim_contact(connected_world, rich.cc_id)["list_memberships"] == [
        sim_list_ids(connected_world)["Newsletter"]]
    assert list(rich.lists.values_list("name", flat=True)) == ["Newsletter"]


def test_adding_and_removing_a_tag(connected_world, rich, editor):
    webinar = Tag.objects.get(name="webinar")
    lead = Tag.objects.get(name="lead")
    editor.post(url(connected_world, "contact_tag_add", rich), {"tag": webinar.pk})
    editor.post(url(connected_world, "contact_tag_remove", rich, tag_id=lead.pk))
    tags = sim_tag_ids(connected_world)
    assert sim_contact(connected_world, rich.cc_id)["taggings"] == [
        tags["high-value"], tags["webinar"]]
    assert set(rich.tags.values_list("name", flat=True)) == {"high-value", "webinar"}


def test_a_list_of_another_workspace_is_refused_without_a_call(connected_world, rich, editor):
    other = ContactListFactory(workspace=connected_world.other_workspace, name="Theirs")
    calls = AuditEvent.objects.filter(action__startswith="cc.").count()
    for posted in ({"list": other.pk}, {"list": "x"}, {}):
        response = editor.post(url(connected_world, "contact_list_add", rich), posted,
                               follow=True)
        assert b"Choose one of the lists shown" in response.content
    assert AuditEvent.objects.filter(action__startswith="cc.").count() == calls
    # A list in the path is an object of its own: another workspace's is not found.
    response = editor.post(url(connected_world, "contact_list_remove", rich, list_id=other.pk))
    assert response.status_code == 404


def test_a_failure_is_a_message_and_changes_nothing(connected_world, rich, editor, no_backoff):
    connected_world.control("POST", "faults", error_rate_503=1.0, count=20)
    events = ContactList.objects.get(name="Events")
    response = editor.post(url(connected_world, "contact_list_add", rich), {"list": events.pk},
                           follow=True)
    assert b"unavailable" in response.content
    connected_world.control("DELETE", "faults")
    assert len(sim_contact(connected_world, rich.cc_id)["list_memberships"]) == 2
    assert rich.lists.count() == 2
