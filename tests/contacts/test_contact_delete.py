"""Deleting a contact: a confirmation page, then DELETE upstream; the mirror keeps
the row marked removed, as a sync with status=all would leave it."""

from django.urls import reverse
import pytest

from apps.contacts.selectors.contacts import contact_count
from apps.mirror.models import Contact
from apps.mirror.selectors.contacts import ContactFilters, contact_filter
from tests.contacts.contact_support import (
    mirror_collections,
    mirror_contact,
    seed_rich_contact,
    sim_contact,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(connected_world) -> Contact:
    mirror_collections(connected_world)
    return mirror_contact(connected_world, seed_rich_contact(connected_world)["contact_id"])


@pytest.fixture
def editor(client, connected_world):
    client.force_login(connected_world.editor)
    return client


def delete_url(cw, contact) -> str:
    return reverse("contacts:contact_delete",
                   kwargs={"workspace_slug": cw.workspace.slug, "contact_id": contact.pk})


def test_it_asks_first(connected_world, rich, editor):
    response = editor.get(delete_url(connected_world, rich))
    assert response.status_code == 200
    assert b"Delete contact" in response.content
    assert "deleted_at" not in sim_contact(connected_world, rich.cc_id)


def test_deleting_removes_it_upstream_and_marks_the_mirror(connected_world, rich, editor):
    ws = connected_world.workspace
    default = ContactFilters()
    before = contact_count(workspace=ws, filters=default,
                           contacts=contact_filter(workspace=ws, filters=default)).value

    response = editor.post(delete_url(connected_world, rich))

    assert response.status_code == 302
    assert sim_contact(connected_world, rich.cc_id)["deleted_at"]
    rich.refresh_from_db()
    assert rich.deleted_upstream is not None and rich.status == "removed"
    assert rich.lists.count() == 2  # memberships stay, as upstream keeps them
    # The cached total was invalidated: the plain list no longer counts it.
    after = contact_count(workspace=ws, filters=default,
                          contacts=contact_filter(workspace=ws, filters=default)).value
    assert after == before - 1


def test_a_contact_already_deleted_upstream_is_just_marked(connected_world, rich, editor):
    st = connected_world.sim.state
    with st.lock:
        st.contacts[rich.cc_id]["deleted_at"] = "2024-05-01"
    assert editor.post(delete_url(connected_world, rich)).status_code == 302
    rich.refresh_from_db()
    assert rich.deleted_upstream is not None


def test_a_failed_delete_changes_nothing(connected_world, rich, editor, no_backoff):
    connected_world.control("POST", "faults", error_rate_503=1.0, count=20)
    response = editor.post(delete_url(connected_world, rich))
    assert response.status_code == 200
    assert b"unavailable" in response.content
    connected_world.control("DELETE", "faults")
    assert "deleted_at" not in sim_contact(connected_world, rich.cc_id)
    rich.refresh_from_db()
    assert rich.deleted_upstream is None
