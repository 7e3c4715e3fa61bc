"""The sign-up-form upsert: only on the member's explicit choice, with a warning
that it re-subscribes; at least one list; the contact is fetched again and
mirrored after Constant Contact answers."""

from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from apps.mirror.models import Contact, ContactList
from tests.contacts.contact_support import (
    mirror_collections,
    mirror_contact,
    seed_rich_contact,
    sim_contact,
    sim_list_ids,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, connected_world):
    mirror_collections(connected_world)
    client.force_login(connected_world.editor)
    return client


def signup_url(cw) -> str:
    return reverse("contacts:contact_signup_upsert", kwargs={"workspace_slug": cw.workspace.slug})


def test_the_page_warns_that_it_re_subscribes(connected_world, editor):
    response = editor.get(signup_url(connected_world) + "?email=someone@example.com")
    assert response.status_code == 200
    assert b"if it had unsubscribed, it is subscribed again" in response.content
    assert response.context["form"]["email"].value() == "someone@example.com"


def test_it_requires_consent_and_a_list(connected_world, editor):
    response = editor.post(signup_url(connected_world), {"email": "fresh@example.com"})
    assert set(response.context["form"].errors) == {"lists", "consent"}
    assert not AuditEvent.objects.filter(action="cc.contacts.sign_up_form").exists()


def test_a_new_address_is_created_with_explicit_permission(connected_world, editor):
    vip = ContactList.objects.get(name="VIP")
    response = editor.post(signup_url(connected_world), {
        "email": "fresh@example.com", "first_name": "Fay", "lists": [vip.pk], "consent": "on",
    })
    assert response.status_code == 302
    contact = Contact.objects.get(email="fresh@example.com")
    assert contact.email_status == "explicit"
    assert list(contact.lists.all()) == [vip]
    assert contact.first_name == "Fay"


def test_an_unsubscribed_contact_needs_a_second_confirmation(connected_world, editor):
    document = seed_rich_contact(connected_world, email="gone@example.com",
                                 permission="unsubscribed")
    contact = mirror_contact(connected_world, document["contact_id"])
    events = ContactList.objects.get(name="Events")
    data = {"email": "gone@example.com", "lists": [events.pk], "consent": "on"}

    response = editor.post(signup_url(connected_world), data)

    assert response.status_code == 200
    assert "confirm_resubscribe" in response.context["form"].errors
    assert b"unsubscribed" in response.content
    assert sim_contact(connected_world, contact.cc_id)["email_address"][
        "permission_to_send"] == "unsubscribed"

    response = editor.post(signup_url(connected_world), {**data, "confirm_resubscribe": "on"})

    assert response.status_code == 302
    upstream = sim_contact(connected_world, contact.cc_id)
    assert upstream["email_address"]["permission_to_send"] == "explicit"
    lists = sim_list_ids(connected_world)
    # Appended: the lists it was on stay.
    assert upstream["list_memberships"] == [lists["Newsletter"], lists["VIP"], lists["Events"]]
    contact.refresh_from_db()
    assert contact.status == "subscribed" and contact.email_status == "explicit"
    assert contact.lists.count() == 3
    # The rest of the contact is untouched (a partial update).
    assert upstream["notes"] and upstream["sms_channel"] and len(upstream["custom_fields"]) == 3
    event = AuditEvent.objects.get(action="contacts.contact_signup_upserted")
    assert event.details["consent_confirmed_by_member"] is True
