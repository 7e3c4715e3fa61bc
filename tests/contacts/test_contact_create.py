"""Creating a contact: POST /contacts with create_source Account, the member's
permission choice, lists, tags and custom fields; a duplicate address (409)
offers the sign-up form instead; bad input never reaches Constant Contact."""

from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from apps.constantcontact import errors
from apps.mirror.models import Contact, ContactList, CustomField, Tag
from tests.contacts.contact_support import (
    mirror_collections,
    seed_rich_contact,
    sim_field_ids,
    sim_list_ids,
    sim_tag_ids,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, connected_world):
    mirror_collections(connected_world)
    client.force_login(connected_world.editor)
    return client


def create_url(cw) -> str:
    return reverse("contacts:contact_create", kwargs={"workspace_slug": cw.workspace.slug})


def sim_by_email(cw, address: str) -> dict | None:
    st = cw.sim.state
    with st.lock:
        found = st.find_by_email(address)
        return dict(found) if found else None


def test_the_form_has_one_input_per_custom_field_and_defaults_to_implicit(connected_world,
                                                                            editor):
    response = editor.get(create_url(connected_world))
    form = response.context["form"]
    labels = {form.fields[name].label for name in form.custom_field_names}
    assert labels == set(CustomField.objects.values_list("label", flat=True))
    assert form["permission"].value() == "implicit"
    assert b"explicit only when the person gave you permission" in response.content


def test_it_creates_the_contact_upstream_then_mirrors_it(connected_world, editor):
    newsletter = ContactList.objects.get(name="Newsletter")
    lead = Tag.objects.get(name="lead")
    plan = CustomField.objects.get(label="Plan")
    response = editor.post(create_url(connected_world), {
        "email": "New.Person@Example.com", "first_name": "Nina", "last_name": "New",
        "company_name": "Initech", "birthday_month": "3", "birthday_day": "9",
        "phone_number": "555-222-3333", "phone_kind": "mobile", "street": "5 Oak St",
        "city": "Austin", "permission": "explicit", "lists": [newsletter.pk],
        "tags": [lead.pk], f"cf_{plan.pk}": "Silver",
    })

    assert response.status_code == 302
    upstream = sim_by_email(connected_world, "new.person@example.com")
    assert upstream["create_source"] == "Account"
    assert upstream["email_address"]["permission_to_send"] == "explicit"
    assert upstream["first_name"] == "Nina" and upstream["birthday_month"] == 3
    assert upstream["list_memberships"] == [sim_list_ids(connected_world)["Newsletter"]]
    assert upstream["taggings"] == [sim_tag_ids(connected_world)["lead"]]
    assert upstream["custom_fields"] == [
        {"custom_field_id": sim_field_ids(connected_world)["Plan"], "value": "Silver"}]
    assert upstream["phone_numbers"][0]["phone_number"] == "555-222-3333"
    assert upstream["street_addresses"][0]["kind"] == "home"
    contact = Contact.objects.get(workspace=connected_world.workspace,
                                  cc_id=upstream["contact_id"])
    assert response["Location"].endswith(f"/contacts/{contact.pk}/")
    assert contact.email == "new.person@example.com"
    assert list(contact.lists.all()) == [newsletter]
    assert list(contact.tags.all()) == [lead]
    assert AuditEvent.objects.filter(action="contacts.contact_created").exists()


def test_a_duplicate_address_offers_the_sign_up_form(connected_world, editor):
    seed_rich_contact(connected_world, email="taken@example.com")
    response = editor.post(create_url(connected_world), {
        "email": "taken@example.com", "first_name": "Second", "permission": "implicit",
    })

    assert response.status_code == 200
    assert "already has a contact" in str(response.context["form"].errors["email"])
    assert response.context["duplicate"]["email"] == "taken@example.com"
    assert b"sign-up-form/?email=taken%40example.com" in response.content
    assert response.context["form"]["first_name"].value() == "Second"
    assert not Contact.objects.filter(email="taken@example.com").exists()


@pytest.mark.parametrize("data, field", [
    ({"email": "", "permission": "implicit"}, "email"),
    ({"email": "nope", "permission": "implicit"}, "email"),
    ({"email": ("a" * 75) + "@x.com", "permission": "implicit"}, "email"),
    ({"email": "a@example.com", "permission": "implicit", "last_name": "y" * 51}, "last_name"),
    ({"email": "a@example.com", "permission": "implicit", "company_name": "c" * 51},
     "company_name"),
    ({"email": "a@example.com", "permission": "implicit", "birthday_month": "2"},
     "birthday_day"),
    ({"email": "a@example.com", "permission": "implicit", "anniversary": "2020-02-30"},
     "anniversary"),
    ({"email": "a@example.com", "permission": "implicit", "phone_number": "1" * 26},
     "phone_number"),
    ({"email": "a@example.com", "permission": "sure"}, "permission"),
])
def test_bad_input_is_explained_on_the_form(connected_world, editor, data, field):
    response = editor.post(create_url(connected_world), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not AuditEvent.objects.filter(action="cc.contacts.create").exists()


def test_an_unavailable_upstream_keeps_the_input(connected_world, editor, no_backoff):
    connected_world.control("POST", "faults", error_rate_500=1.0, count=10)
    response = editor.post(create_url(connected_world), {
        "email": "later@example.com", "first_name": "Lou", "permission": "implicit",
    })
    assert response.status_code == 200
    # A POST whose outcome is unknown is never retried (it might have created it).
    assert "did not answer in time or is unavailable" in str(
        response.context["form"].non_field_errors())
    assert response.context["form"]["first_name"].value() == "Lou"
    assert not Contact.objects.filter(email="later@example.com").exists()


@pytest.mark.parametrize("error, message", [
    (errors.Throttled(), "too many requests this second"),
    (errors.QuotaExceeded(), "daily API limit"),
    (errors.NeedsReconnect(), "must reconnect"),
    (errors.GrantDenied(), "Your role does not allow"),
    (errors.ValidationError(errors=[{"error_key": "x", "error_message": "Bad phone."}]),
     "Constant Contact rejected this: Bad phone."),
])
def test_each_upstream_refusal_has_its_own_message(connected_world, editor, refuse_endpoint,
                                                    error, message):
    refuse_endpoint("contacts.create", error)
    response = editor.post(create_url(connected_world), {
        "email": "later@example.com", "first_name": "Lou", "permission": "implicit",
    })
    assert response.status_code == 200
    assert message in str(response.context["form"].non_field_errors())
    assert response.context["form"]["email"].value() == "later@example.com"
    assert not Contact.objects.filter(email="later@example.com").exists()
