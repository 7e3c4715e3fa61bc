"""The tag services against the simulator: create, rename, delete pending until
the activity completes, duplicates and the 500-tag limit refused upstream with
the mirror untouched."""

import pytest

from apps.constantcontact.errors import Conflict, GrantDenied, ValidationError
from apps.contacts.services import tags as services
from apps.mirror.mapping import CONTACT_INCLUDE
from apps.mirror.models import Tag, Tagging
from apps.mirror.services.activities import DeleteOutcome, DeletePending
from apps.mirror.services.audience import contact_mirror_save, tag_mirror_save


def mirror_tags(cw) -> dict[str, Tag]:
    answer = cw.gate().call("tags.list", params={"include_count": "true", "limit": 500})
    return {
        data["name"]: tag_mirror_save(workspace=cw.workspace, data=data)
        for data in answer.data["tags"]
    }


def mirror_contacts(cw) -> None:
    for page in cw.gate().pages("contacts.list", params={"limit": 500,
                                                         "include": CONTACT_INCLUDE}):
        for data in page.data["contacts"]:
            contact_mirror_save(workspace=cw.workspace, data=data)


def upstream_tags(cw) -> dict[str, dict]:
    with cw.sim.state.lock:
        return {t["name"]: dict(t) for t in cw.sim.state.active_tags().values()}


def fill_upstream_tags(cw, up_to: int) -> None:
    """Tags made elsewhere until the account holds `up_to` of them."""
    with cw.sim.state.lock:
        state = cw.sim.state
        for n in range(up_to - len(state.active_tags())):
            tag_id = state.new_id()
            state.tags[tag_id] = {"tag_id": tag_id, "name": f"filler {n:03}",
                                  "created_at": state.now(), "updated_at": state.now(),
                                  "tag_source": "Contact"}


def test_it_creates_a_tag_upstream_then_mirrors_it(connected_world):
    cw = connected_world
    row = services.tag_create(workspace=cw.workspace, membership=cw.membership("editor"),
                              name="Spring fair")
    assert upstream_tags(cw)["Spring fair"]["tag_id"] == row.cc_id
    row.refresh_from_db()
    assert (row.name, row.contacts_count, row.tag_source) == ("Spring fair", 0, "Contact")


def test_it_refuses_a_duplicate_and_mirrors_nothing(connected_world):
    cw = connected_world
    mirror_tags(cw)
    before = Tag.objects.count()
    with pytest.raises(Conflict):
        services.tag_create(workspace=cw.workspace, membership=cw.membership("editor"),
                            name="LEAD")
    assert Tag.objects.count() == before


def test_constant_contact_refuses_the_501st_tag(connected_world):
    cw = connected_world
    fill_upstream_tags(cw, 500)
    with pytest.raises(ValidationError) as caught:
        services.tag_create(workspace=cw.workspace, membership=cw.membership("editor"),
                            name="One too many")
    assert caught.value.error_key == "contact_tags.api.limit"
    assert not Tag.objects.filter(name="One too many").exists()


def test_the_gate_refuses_a_viewer(connected_world):
    cw = connected_world
    with pytest.raises(GrantDenied):
        services.tag_create(workspace=cw.workspace, membership=cw.membership("viewer"),
                            name="Nope")
    assert "Nope" not in upstream_tags(cw)


def test_it_renames_a_tag_and_keeps_its_count(connected_world):
    cw = connected_world
    lead = mirror_tags(cw)["lead"]
    count = lead.contacts_count
    row = services.tag_rename(tag=lead, membership=cw.membership("editor"), name="Lead (web)")
    assert "Lead (web)" in upstream_tags(cw)
    row.refresh_from_db()
    assert (row.name, row.contacts_count) == ("Lead (web)", count)


def test_a_rename_onto_another_tags_name_is_a_conflict(connected_world):
    cw = connected_world
    lead = mirror_tags(cw)["lead"]
    with pytest.raises(Conflict):
        services.tag_rename(tag=lead, membership=cw.membership("editor"), name="customer")
    lead.refresh_from_db()
    assert lead.name == "lead"


def test_a_delete_is_pending_until_the_activity_completes(connected_world):
    cw = connected_world
    mirror_tags(cw)
    mirror_contacts(cw)
    webinar = Tag.objects.get(workspace=cw.workspace, name="webinar")
    editor = cw.membership("editor")

    assert services.tag_delete(tag=webinar, membership=editor) is False
    webinar.refresh_from_db()
    assert webinar.delete_pending
    assert services.tag_delete_settle(tag=webinar, membership=editor).outcome == (
        DeleteOutcome.PENDING)
    assert "webinar" in upstream_tags(cw)

    cw.sim.advance(60)
    assert services.tag_delete_settle(tag=webinar, membership=editor).outcome == (
        DeleteOutcome.DELETED)
    assert not Tag.objects.filter(pk=webinar.pk).exists()
    assert not Tagging.objects.filter(tag_id=webinar.pk).exists()
    assert "webinar" not in upstream_tags(cw)


def test_a_pending_tag_cannot_be_renamed(connected_world):
    cw = connected_world
    lead = mirror_tags(cw)["lead"]
    services.tag_delete(tag=lead, membership=cw.membership("editor"))
    lead.refresh_from_db()
    with pytest.raises(DeletePending):
        services.tag_rename(tag=lead, membership=cw.membership("editor"), name="Too late")
