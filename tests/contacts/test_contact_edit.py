"""Editing a contact: get-merge-put that never loses what the form doesn't show,
conflict detection when the contact changed upstream since the form was opened,
and clear messages (with the mirror and Constant Contact untouched) when the
upstream fails or the input is bad."""

from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from apps.constantcontact.gate import ConstantContact
from apps.constantcontact.models import Connection
from apps.mirror.models import Contact
from tests.contacts.contact_support import (
    mirror_collections,
    mirror_contact,
    seed_rich_contact,
    sim_change,
    sim_contact,
    sim_field_ids,
    without_volatile,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(connected_world) -> Contact:
    mirror_collections(connected_world)
    document = seed_rich_contact(connected_world)
    return mirror_contact(connected_world, document["contact_id"])


@pytest.fixture
def editor(client, connected_world):
    client.force_login(connected_world.editor)
    return client


def edit_url(cw, contact: Contact) -> str:
    return reverse("contacts:contact_edit",
                   kwargs={"workspace_slug": cw.workspace.slug, "contact_id": contact.pk})


def form_data(response) -> dict[str, str]:
    """What the browser would submit for the form as rendered."""
    form = response.context["form"]
    data = {name: "" if form[name].value() is None else str(form[name].value())
            for name in form.fields if not form.fields[name].disabled}
    data["opened"] = response.context["opened_token"]
    return data


def field_name(cw, label: str) -> str:
    from apps.mirror.models import CustomField

    field = CustomField.objects.get(workspace=cw.workspace, label=label)
    return f"cf_{field.pk}"


def puts(cw) -> int:
    return AuditEvent.objects.filter(workspace=cw.workspace, action="cc.contacts.update").count()


def test_the_form_opens_on_constant_contacts_copy(connected_world, rich, editor):
    sim_change(connected_world, rich.cc_id, job_title="Head buyer")
    response = editor.get(edit_url(connected_world, rich))
    assert response.status_code == 200
    assert response.context["form"]["job_title"].value() == "Head buyer"
    assert response.context["form"][field_name(connected_world, "Plan")].value() == "Gold"
    # Opening the form only reads: the mirror changes when a save lands (or a sync).
    rich.refresh_from_db()
    assert rich.job_title != "Head buyer"


def test_editing_the_first_name_keeps_everything_else(connected_world, rich, editor):
    before = sim_contact(connected_world, rich.cc_id)
    data = form_data(editor.get(edit_url(connected_world, rich)))
    data["first_name"] = "Margarita"

    response = editor.post(edit_url(connected_world, rich), data)

    assert response.status_code == 302
    after = sim_contact(connected_world, rich.cc_id)
    expected = without_volatile(before)
    expected["first_name"] = "Margarita"
    assert without_volatile(after) == expected
    # Spelled out: what a careless PUT would have dropped is all still there.
    assert after["sms_channel"] == before["sms_channel"]
    assert after["notes"] == before["notes"]
    assert [p["phone_number"] for p in after["phone_numbers"]] == ["555-100-2000", "555-300-4000"]
    assert [a["city"] for a in after["street_addresses"]] == ["Boston", "Denver"]
    assert len(after["custom_fields"]) == 3
    assert after["update_source"] == "Account"
    rich.refresh_from_db()
    assert rich.first_name == "Margarita"
    assert rich.lists.count() == 2 and rich.tags.count() == 2


def test_editing_one_custom_field_changes_only_that_value(connected_world, rich, editor):
    data = form_data(editor.get(edit_url(connected_world, rich)))
    data[field_name(connected_world, "Plan")] = "Platinum"
    data[field_name(connected_world, "Region")] = "EMEA"

    assert editor.post(edit_url(connected_world, rich), data).status_code == 302

    ids = sim_field_ids(connected_world)
    values = {v["custom_field_id"]: v["value"]
              for v in sim_contact(connected_world, rich.cc_id)["custom_fields"]}
    assert values == {ids["Favorite Color"]: "teal", ids["Plan"]: "Platinum",
                      ids["Loyalty Points"]: "1200", ids["Region"]: "EMEA"}
    rich.refresh_from_db()
    assert {"custom_field_id": ids["Plan"], "value": "Platinum"} in rich.custom_fields


def test_clearing_a_field_removes_only_it(connected_world, rich, editor):
    data = form_data(editor.get(edit_url(connected_world, rich)))
    data["job_title"] = ""
    data[field_name(connected_world, "Favorite Color")] = ""

    assert editor.post(edit_url(connected_world, rich), data).status_code == 302

    after = sim_contact(connected_world, rich.cc_id)
    assert "job_title" not in after
    assert after["company_name"] == "Globex"
    assert len(after["custom_fields"]) == 2


def test_it_refuses_to_overwrite_a_contact_changed_upstream(connected_world, rich, editor):
    data = form_data(editor.get(edit_url(connected_world, rich)))
    sim_change(connected_world, rich.cc_id, job_title="CEO")
    untouched = sim_contact(connected_world, rich.cc_id)
    data["first_name"] = "Margarita"

    response = editor.post(edit_url(connected_world, rich), data)

    assert response.status_code == 200
    assert sim_contact(connected_world, rich.cc_id) == untouched
    difference = response.context["difference"]
    assert [(r.label, r.opened, r.upstream, r.yours) for r in difference.fields] == [
        ("Job title", "Buyer", "CEO", "Buyer"),
    ]
    assert b"changed in Constant Contact since you opened the form" in response.content
    # The form now shows the upstream job title and keeps the member's first name.
    form = response.context["form"]
    assert form["job_title"].value() == "CEO"
    assert form["first_name"].value() == "Margarita"

    # Confirming (a second submit carrying the new fingerprint) writes both.
    assert editor.post(edit_url(connected_world, rich), form_data(response)).status_code == 302
    after = sim_contact(connected_world, rich.cc_id)
    assert (after["first_name"], after["job_title"]) == ("Margarita", "CEO")


def test_a_clash_on_the_same_field_shows_all_three_values(connected_world, rich, editor):
    data = form_data(editor.get(edit_url(connected_world, rich)))
    sim_change(connected_world, rich.cc_id, first_name="Rosalind")
    data["first_name"] = "Margarita"

    response = editor.post(edit_url(connected_world, rich), data)

    row = response.context["difference"].fields[0]
    assert (row.label, row.opened, row.upstream, row.yours) == (
        "First name", "Rita", "Rosalind", "Margarita")
    assert response.context["form"]["first_name"].value() == "Margarita"
    assert sim_contact(connected_world, rich.cc_id)["first_name"] == "Rosalind"


def test_an_opt_out_upstream_is_a_change_too(connected_world, rich, editor):
    """Opt-outs don't move the contact's updated_at (contract §5.5): the document
    hash catches them."""
    data = form_data(editor.get(edit_url(connected_world, rich)))
    st = connected_world.sim.state
    with st.lock:
        st.contacts[rich.cc_id]["email_address"]["permission_to_send"] = "unsubscribed"
    data["first_name"] = "Margarita"

    response = editor.post(edit_url(connected_world, rich), data)

    assert response.status_code == 200
    assert response.context["difference"].other_parts == ["email permission"]
    assert sim_contact(connected_world, rich.cc_id)["first_name"] == "Rita"
    # Confirming keeps the opt-out: the PUT re-sends the permission it just read.
    editor.post(edit_url(connected_world, rich), form_data(response))
    after = sim_contact(connected_world, rich.cc_id)
    assert after["first_name"] == "Margarita"
    assert after["email_address"]["permission_to_send"] == "unsubscribed"


def test_an_unchanged_form_sends_nothing(connected_world, rich, editor):
    data = form_data(editor.get(edit_url(connected_world, rich)))
    response = editor.post(edit_url(connected_world, rich), data, follow=True)
    assert b"Nothing was changed" in response.content
    assert puts(connected_world) == 0


def test_bad_input_stays_on_the_form_and_sends_nothing(connected_world, rich, editor):
    data = form_data(editor.get(edit_url(connected_world, rich)))
    data.update(first_name="x" * 51, email="not-an-email", birthday_day="",
                anniversary="31/31/2020")
    data[field_name(connected_world, "Loyalty Points")] = "lots"

    response = editor.post(edit_url(connected_world, rich), data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"first_name", "email", "birthday_day", "anniversary",
                           field_name(connected_world, "Loyalty Points")}
    assert response.context["form"]["first_name"].value() == "x" * 51  # kept for fixing
    assert puts(connected_world) == 0


def test_a_tampered_form_is_refused(connected_world, rich, editor):
    data = form_data(editor.get(edit_url(connected_world, rich)))
    data["opened"] = data["opened"][:-3] + "abc"
    data["first_name"] = "Margarita"

    response = editor.post(edit_url(connected_world, rich), data)

    assert response.status_code == 200 and response.context["stale"]
    assert sim_contact(connected_world, rich.cc_id)["first_name"] == "Rita"


def test_an_address_another_contact_has_is_refused(connected_world, rich, editor):
    other = seed_rich_contact(connected_world, email="taken@example.com")
    assert other
    data = form_data(editor.get(edit_url(connected_world, rich)))
    data["email"] = "taken@example.com"

    response = editor.post(edit_url(connected_world, rich), data)

    assert "already uses this address" in str(response.context["form"].errors["email"])
    assert sim_contact(connected_world, rich.cc_id)["email_address"]["address"] == (
        "rich.person@example.com")


def test_an_unavailable_upstream_leaves_both_copies_as_they_were(
        connected_world, rich, editor, monkeypatch, no_backoff):
    """A burst of 503s starting with the PUT: the client's retries run out."""
    original = ConstantContact.call

    def call(self, name, **kwargs):
        if name == "contacts.update":
            connected_world.control("POST", "faults", error_rate_503=1.0, count=20)
        return original(self, name, **kwargs)

    monkeypatch.setattr(ConstantContact, "call", call)
    data = form_data(editor.get(edit_url(connected_world, rich)))
    before = sim_contact(connected_world, rich.cc_id)
    mirrored = Contact.objects.values().get(pk=rich.pk)
    data["first_name"] = "Margarita"

    response = editor.post(edit_url(connected_world, rich), data)

    assert response.status_code == 200
    assert "did not answer in time or is unavailable" in str(response.context["form"].errors)
    assert response.context["form"]["first_name"].value() == "Margarita"
    assert sim_contact(connected_world, rich.cc_id) == before
    assert Contact.objects.values().get(pk=rich.pk) == mirrored


def test_an_expired_connection_is_explained(connected_world, rich, editor):
    data = form_data(editor.get(edit_url(connected_world, rich)))
    Connection.objects.filter(pk=connected_world.connection.pk).update(
        status=Connection.Status.NEEDS_RECONNECT)
    data["first_name"] = "Margarita"

    response = editor.post(edit_url(connected_world, rich), data)

    assert "must reconnect" in str(response.context["form"].errors)
    assert sim_contact(connected_world, rich.cc_id)["first_name"] == "Rita"
    # Opening the form says so too, on the contact's page.
    response = editor.get(edit_url(connected_world, rich), follow=True)
    assert b"must reconnect" in response.content


def test_a_removed_contact_cant_be_edited(connected_world, rich, editor):
    Contact.objects.filter(pk=rich.pk).update(deleted_upstream="2024-01-01T00:00:00Z")
    response = editor.get(edit_url(connected_world, rich), follow=True)
    assert b"deleted in Constant Contact" in response.content
    assert puts(connected_world) == 0


def test_a_field_the_form_cant_edit_keeps_its_value(connected_world, rich, editor):
    """A multi-select custom field shows as read-only; saving another field must
    not read it as emptied."""
    from apps.mirror.models import CustomField

    field = CustomField.objects.get(workspace=connected_world.workspace, label="Plan")
    CustomField.objects.filter(pk=field.pk).update(type="multi_select")
    data = form_data(editor.get(edit_url(connected_world, rich)))
    assert field_name(connected_world, "Plan") not in data  # disabled: browsers don't send it
    data["first_name"] = "Margarita"

    assert editor.post(edit_url(connected_world, rich), data).status_code == 302

    values = {v["custom_field_id"]: v["value"]
              for v in sim_contact(connected_world, rich.cc_id)["custom_fields"]}
    assert values[sim_field_ids(connected_world)["Plan"]] == "Gold"
