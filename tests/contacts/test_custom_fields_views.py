"""The custom-field screens against the simulator: the table and the 100-field
allowance (a warning from 90, the create form refused at 100, Constant
Contact's refusal shown if the mirror lags), create with choices, rename,
delete with its warning of how many contacts lose a value, and the grants."""

from django.urls import reverse
import pytest

from apps.mirror.models import Contact, CustomField
from tests.contacts.test_custom_fields_services import (
    fill_upstream_fields,
    mirror_contacts,
    mirror_fields,
    upstream_field,
)


def url(cw, name: str, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": cw.workspace.slug, **kwargs})


def mirror_filler_fields(cw, up_to: int) -> None:
    have = CustomField.objects.filter(workspace=cw.workspace).count()
    CustomField.objects.bulk_create([
        CustomField(workspace=cw.workspace, cc_id=f"filler-{n}", label=f"Filler {n:03}",
                    type="string")
        for n in range(up_to - have)
    ])


@pytest.fixture
def fields(connected_world) -> dict[str, CustomField]:
    return mirror_fields(connected_world)


@pytest.fixture
def as_editor(client, connected_world):
    client.force_login(connected_world.editor)
    return client


def test_the_table_shows_each_field_its_type_and_the_allowance(as_editor, connected_world,
                                                               fields):
    html = as_editor.get(url(connected_world, "custom_field_index")).content.decode()
    assert "Favorite Color" in html and "Loyalty Points" in html
    assert "Number" in html  # Loyalty Points' type, as people say it
    assert "<code>cf:favorite_color</code>" in html
    assert "<strong>5 of 100</strong> custom fields used" in html


def test_from_90_fields_the_page_warns(as_editor, connected_world, fields):
    mirror_filler_fields(connected_world, 90)
    html = as_editor.get(url(connected_world, "custom_field_index")).content.decode()
    assert "Only 10 more custom fields can be created" in html


def test_at_100_fields_the_create_form_explains_instead_and_nothing_is_sent(
    as_editor, connected_world, fields
):
    cw = connected_world
    mirror_filler_fields(cw, 100)
    page = as_editor.get(url(cw, "custom_field_create")).content.decode()
    assert "the most Constant Contact allows (100)" in page
    as_editor.post(url(cw, "custom_field_create"), {"label": "Extra", "field_type": "string"})
    with cw.sim.state.lock:
        assert "Extra" not in {f["label"] for f in cw.sim.state.custom_fields.values()}


def test_when_the_mirror_lags_constant_contacts_own_limit_is_shown(as_editor, connected_world,
                                                                   fields):
    cw = connected_world
    fill_upstream_fields(cw, 100)
    response = as_editor.post(url(cw, "custom_field_create"),
                              {"label": "Extra", "field_type": "string"})
    assert "at most 100 custom fields" in str(response.context["form"].non_field_errors())
    assert not CustomField.objects.filter(label="Extra").exists()


def test_an_editor_creates_a_choose_one_field_with_its_choices(as_editor, connected_world):
    cw = connected_world
    response = as_editor.post(url(cw, "custom_field_create"), {
        "label": "Shirt size", "field_type": "single_select", "choices": "S\nM\n\nL\n",
    }, follow=True)
    assert "Custom field “Shirt size” created." in response.content.decode()
    row = CustomField.objects.get(workspace=cw.workspace, label="Shirt size")
    assert [c["choice_label"] for c in upstream_field(cw, row.cc_id)["choices"]] == [
        "S", "M", "L"]
    assert "S, M, L" in response.content.decode()


def test_a_choose_one_field_needs_choices_and_plain_fields_ignore_them(as_editor,
                                                                      connected_world):
    cw = connected_world
    response = as_editor.post(url(cw, "custom_field_create"),
                              {"label": "Size", "field_type": "multi_select", "choices": " \n"})
    assert response.context["form"].errors["choices"] == ["Give at least one choice, one per line."]
    response = as_editor.post(url(cw, "custom_field_create"),
                              {"label": "Size", "field_type": "multi_select", "choices": "A\na"})
    assert response.context["form"].errors["choices"] == ["Each choice must be different."]
    as_editor.post(url(cw, "custom_field_create"),
                   {"label": "Nickname", "field_type": "string", "choices": "ignored"})
    row = CustomField.objects.get(workspace=cw.workspace, label="Nickname")
    assert "choices" not in upstream_field(cw, row.cc_id)


def test_a_bad_label_or_type_is_refused_on_the_form(as_editor, connected_world):
    response = as_editor.post(url(connected_world, "custom_field_create"),
                              {"label": "x" * 51, "field_type": "colour"})
    errors = response.context["form"].errors
    assert errors["label"] and errors["field_type"]
    assert not CustomField.objects.exists()


def test_a_duplicate_label_is_an_error_on_the_label(as_editor, connected_world, fields):
    response = as_editor.post(url(connected_world, "custom_field_create"),
                              {"label": "PLAN", "field_type": "string"})
    assert "already has a custom field with this label" in (
        response.context["form"].errors["label"][0])


def test_an_editor_renames_a_field(as_editor, connected_world, fields):
    cw, plan = connected_world, fields["Plan"]
    assert as_editor.get(url(cw, "custom_field_edit", field_id=plan.pk)).status_code == 200
    response = as_editor.post(url(cw, "custom_field_edit", field_id=plan.pk),
                              {"label": "Subscription plan"}, follow=True)
    assert "renamed to “Subscription plan”" in response.content.decode()
    assert upstream_field(cw, plan.cc_id)["label"] == "Subscription plan"


def test_a_rename_onto_another_label_is_an_error_and_changes_nothing(as_editor, connected_world,
                                                                     fields):
    cw, plan = connected_world, fields["Plan"]
    response = as_editor.post(url(cw, "custom_field_edit", field_id=plan.pk),
                              {"label": "Region"})
    assert "already has a custom field with this label" in (
        response.context["form"].errors["label"][0])
    plan.refresh_from_db()
    assert plan.label == "Plan"


def test_delete_warns_how_many_contacts_lose_a_value_then_removes_them(as_editor,
                                                                      connected_world, fields):
    cw, color = connected_world, fields["Favorite Color"]
    mirror_contacts(cw)
    holders = Contact.objects.filter(custom_fields__icontains=color.cc_id).count()
    assert holders
    confirm = as_editor.get(url(cw, "custom_field_delete", field_id=color.pk)).content.decode()
    assert "removed from every contact" in confirm
    assert f"{holders} contacts here have one" in confirm
    response = as_editor.post(url(cw, "custom_field_delete", field_id=color.pk), follow=True)
    assert "deleted, with its value on every contact" in response.content.decode()
    assert upstream_field(cw, color.cc_id) is None
    assert not Contact.objects.filter(custom_fields__icontains=color.cc_id).exists()


def test_a_failed_delete_is_explained_and_changes_nothing(as_editor, connected_world, fields,
                                                          no_backoff):
    cw, color = connected_world, fields["Favorite Color"]
    mirror_contacts(cw)
    holders = Contact.objects.filter(custom_fields__icontains=color.cc_id).count()
    cw.control("POST", "faults", error_rate_500=1.0, path_prefix="/v3/contact_custom_fields")
    response = as_editor.post(url(cw, "custom_field_delete", field_id=color.pk))
    assert response.status_code == 200
    assert "did not answer in time" in response.content.decode()
    assert CustomField.objects.filter(pk=color.pk).exists()
    assert Contact.objects.filter(custom_fields__icontains=color.cc_id).count() == holders


def test_a_viewer_reads_the_fields_but_may_not_change_them(client, connected_world, fields):
    cw, plan = connected_world, fields["Plan"]
    client.force_login(cw.viewer)
    html = client.get(url(cw, "custom_field_index")).content.decode()
    assert "Plan" in html and "New custom field" not in html and "Rename" not in html
    assert client.get(url(cw, "custom_field_create")).status_code == 403
    assert client.post(url(cw, "custom_field_edit", field_id=plan.pk),
                       {"label": "x"}).status_code == 403
    assert client.post(url(cw, "custom_field_delete", field_id=plan.pk)).status_code == 403
    assert upstream_field(cw, plan.cc_id)["label"] == "Plan"


def test_outsiders_do_not_learn_the_workspace_exists(client, connected_world, fields):
    client.force_login(connected_world.outsider)
    assert client.get(url(connected_world, "custom_field_index")).status_code == 404
    assert client.get(url(connected_world, "custom_field_delete",
                          field_id=fields["Plan"].pk)).status_code == 404
