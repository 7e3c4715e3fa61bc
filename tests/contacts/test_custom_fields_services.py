"""The custom-field services against the simulator: create every type (select
types with their choices), rename without losing choices (a PUT nulls what it
isn't sent), delete with the values leaving the mirrored contacts, duplicates
and the 100-field limit refused with the mirror untouched."""

import pytest

from apps.constantcontact.errors import Conflict, GrantDenied, ValidationError
from apps.contacts.selectors.custom_fields import FIELD_TYPES, contacts_with_value_count
from apps.contacts.services import custom_fields as services
from apps.mirror.mapping import CONTACT_INCLUDE
from apps.mirror.models import Contact, CustomField
from apps.mirror.services.audience import contact_mirror_save, custom_field_mirror_save


def mirror_fields(cw) -> dict[str, CustomField]:
    answer = cw.gate().call("custom_fields.list", params={"limit": 100})
    return {
        data["label"]: custom_field_mirror_save(workspace=cw.workspace, data=data)
        for data in answer.data["custom_fields"]
    }


def mirror_contacts(cw) -> None:
    for page in cw.gate().pages("contacts.list", params={"limit": 500,
                                                         "include": CONTACT_INCLUDE}):
        for data in page.data["contacts"]:
            contact_mirror_save(workspace=cw.workspace, data=data)


def upstream_field(cw, cc_id: str) -> dict | None:
    with cw.sim.state.lock:
        field = cw.sim.state.custom_fields.get(cc_id)
        return dict(field) if field else None


def fill_upstream_fields(cw, up_to: int) -> None:
    with cw.sim.state.lock:
        state = cw.sim.state
        for n in range(up_to - len(state.custom_fields)):
            field_id = state.new_id()
            state.custom_fields[field_id] = {
                "custom_field_id": field_id, "label": f"Filler {n:03}", "name": f"filler_{n:03}",
                "type": "string", "version": 2, "created_at": state.now(),
                "updated_at": state.now(),
            }


@pytest.mark.parametrize("field_type", [value for value, _ in FIELD_TYPES])
def test_it_creates_a_field_of_every_type(connected_world, field_type):
    cw = connected_world
    choices = ["Gold", "Silver"] if field_type.endswith("_select") else []
    row = services.custom_field_create(
        workspace=cw.workspace, membership=cw.membership("editor"),
        label=f"My {field_type}", field_type=field_type, choices=choices,
    )
    upstream = upstream_field(cw, row.cc_id)
    assert upstream["type"] == field_type
    assert [c["choice_label"] for c in upstream.get("choices", [])] == choices
    row.refresh_from_db()
    assert (row.label, row.type) == (f"My {field_type}", field_type)


def test_a_duplicate_label_is_a_conflict_and_nothing_is_mirrored(connected_world):
    cw = connected_world
    mirror_fields(cw)
    with pytest.raises(Conflict):
        services.custom_field_create(workspace=cw.workspace, membership=cw.membership("editor"),
                                     label="favorite color", field_type="string")
    assert CustomField.objects.count() == 5


def test_constant_contact_refuses_the_101st_field(connected_world):
    cw = connected_world
    fill_upstream_fields(cw, 100)
    with pytest.raises(ValidationError) as caught:
        services.custom_field_create(workspace=cw.workspace, membership=cw.membership("editor"),
                                     label="One too many", field_type="string")
    assert caught.value.error_key == "contact_custom_fields.api.limit"
    assert not CustomField.objects.filter(label="One too many").exists()


def test_the_gate_refuses_a_viewer(connected_world):
    cw = connected_world
    with pytest.raises(GrantDenied):
        services.custom_field_create(workspace=cw.workspace, membership=cw.membership("viewer"),
                                     label="Nope", field_type="string")


def test_a_rename_keeps_the_choices_constant_contact_holds(connected_world):
    cw = connected_world
    editor = cw.membership("editor")
    plan = services.custom_field_create(
        workspace=cw.workspace, membership=editor, label="Tier", field_type="single_select",
        choices=["Bronze", "Silver", "Gold"],
    )
    # Someone adds a choice in Constant Contact; the mirror doesn't know yet.
    with cw.sim.state.lock:
        cw.sim.state.custom_fields[plan.cc_id]["choices"].append(
            {"custom_field_id": plan.cc_id, "choice_id": 4, "choice_label": "Platinum",
             "display_order": 4})
    row = services.custom_field_rename(field=plan, membership=editor, label="Membership tier")
    upstream = upstream_field(cw, plan.cc_id)
    assert upstream["label"] == "Membership tier"
    assert [(c["choice_id"], c["choice_label"]) for c in upstream["choices"]] == [
        (1, "Bronze"), (2, "Silver"), (3, "Gold"), (4, "Platinum")]
    assert row.label == "Membership tier"
    assert len(row.raw["choices"]) == 4


def test_a_rename_of_a_plain_field_changes_only_its_label(connected_world):
    cw = connected_world
    region = mirror_fields(cw)["Region"]
    services.custom_field_rename(field=region, membership=cw.membership("editor"),
                                 label="Sales region")
    upstream = upstream_field(cw, region.cc_id)
    assert (upstream["label"], upstream["type"]) == ("Sales region", "string")
    region.refresh_from_db()
    assert region.label == "Sales region"


def test_a_delete_removes_the_values_from_every_mirrored_contact(connected_world):
    cw = connected_world
    color = mirror_fields(cw)["Favorite Color"]
    mirror_contacts(cw)
    holders = contacts_with_value_count(field=color)
    assert holders > 0

    cleaned = services.custom_field_delete(field=color, membership=cw.membership("editor"))
    assert cleaned == holders
    assert upstream_field(cw, color.cc_id) is None
    assert not CustomField.objects.filter(pk=color.pk).exists()
    for contact in Contact.objects.filter(workspace=cw.workspace):
        assert color.cc_id not in str(contact.custom_fields)
        assert color.cc_id not in str(contact.raw.get("custom_fields"))
    # Other fields' values stay.
    assert Contact.objects.filter(custom_fields__icontains="custom_field_id").exists()


def test_a_field_already_gone_upstream_leaves_the_mirror(connected_world):
    cw = connected_world
    region = mirror_fields(cw)["Region"]
    with cw.sim.state.lock:
        del cw.sim.state.custom_fields[region.cc_id]
    services.custom_field_delete(field=region, membership=cw.membership("editor"))
    assert not CustomField.objects.filter(pk=region.pk).exists()
