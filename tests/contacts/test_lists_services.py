"""The list services against the simulator: every write reaches Constant Contact
first and the mirror follows its answer; refusals leave the mirror as it was;
a delete stays pending until the simulator's activity finishes."""

import pytest

from apps.accounts.grants import Access, Area
from apps.accounts.services import role_save
from apps.constantcontact.errors import Conflict, GrantDenied, UpstreamUnavailable
from apps.contacts.services import lists as services
from apps.mirror.mapping import CONTACT_INCLUDE
from apps.mirror.models import ContactList, ListMembership
from apps.mirror.services.activities import DeleteOutcome
from apps.mirror.services.audience import contact_mirror_save, list_mirror_save
from tests.factories import MembershipFactory


def mirror_lists(cw) -> dict[str, ContactList]:
    """What a sync would leave: every upstream list, with its member count."""
    answer = cw.gate().call("lists.list", params={"include_membership_count": "all", "limit": 1000})
    return {
        data["name"]: list_mirror_save(workspace=cw.workspace, data=data)
        for data in answer.data["lists"]
    }


def mirror_contacts(cw) -> None:
    for page in cw.gate().pages("contacts.list", params={"limit": 500,
                                                         "include": CONTACT_INCLUDE}):
        for data in page.data["contacts"]:
            contact_mirror_save(workspace=cw.workspace, data=data)


def upstream_list(cw, cc_id: str) -> dict:
    with cw.sim.state.lock:
        return dict(cw.sim.state.lists[cc_id])


def change_upstream(cw, cc_id: str, **fields) -> None:
    """A change made in Constant Contact itself (by someone else)."""
    with cw.sim.state.lock:
        cw.sim.state.lists[cc_id].update(fields, updated_at="2031-01-01T00:00:00Z")


def test_it_creates_the_list_upstream_then_mirrors_it(connected_world):
    cw = connected_world
    row = services.list_create(
        workspace=cw.workspace, membership=cw.membership("editor"), name="Spring fair",
        description="Visitors of the 2025 fair", favorite=True,
    )
    upstream = upstream_list(cw, row.cc_id)
    assert upstream["name"] == "Spring fair"
    assert upstream["favorite"] is True
    row.refresh_from_db()
    assert (row.name, row.description, row.favorite) == (
        "Spring fair", "Visitors of the 2025 fair", True)
    assert row.membership_count == 0
    assert row.updated_upstream is not None


def test_it_refuses_a_duplicate_name_and_mirrors_nothing(connected_world):
    cw = connected_world
    mirror_lists(cw)
    before = ContactList.objects.count()
    with pytest.raises(Conflict):
        services.list_create(workspace=cw.workspace, membership=cw.membership("editor"),
                             name="newsletter")
    assert ContactList.objects.count() == before


def test_the_gate_refuses_a_viewer_before_anything_is_sent(connected_world):
    cw = connected_world
    with pytest.raises(GrantDenied):
        services.list_create(workspace=cw.workspace, membership=cw.membership("viewer"),
                             name="Viewer's list")
    with cw.sim.state.lock:
        assert "Viewer's list" not in {l["name"] for l in cw.sim.state.lists.values()}
    assert not ContactList.objects.filter(name="Viewer's list").exists()


def test_it_saves_an_edit_of_name_description_and_favourite(connected_world):
    cw = connected_world
    vip = mirror_lists(cw)["VIP"]
    count = vip.membership_count
    row = services.list_update(
        contact_list=vip, membership=cw.membership("editor"), name="VIP customers",
        description="Top spenders", favorite=False, seen_updated_at=vip.raw["updated_at"],
    )
    upstream = upstream_list(cw, vip.cc_id)
    assert (upstream["name"], upstream["description"], upstream["favorite"]) == (
        "VIP customers", "Top spenders", False)
    row.refresh_from_db()
    assert (row.name, row.description, row.favorite) == ("VIP customers", "Top spenders", False)
    assert row.membership_count == count  # the PUT's answer carries no count: kept


def test_it_refuses_to_overwrite_a_list_changed_upstream_since_the_form_opened(connected_world):
    cw = connected_world
    vip = mirror_lists(cw)["VIP"]
    seen = vip.raw["updated_at"]
    change_upstream(cw, vip.cc_id, description="Changed by a colleague")
    with pytest.raises(services.ListChangedUpstream) as caught:
        services.list_update(
            contact_list=vip, membership=cw.membership("editor"), name="VIP",
            description="Mine", favorite=True, seen_updated_at=seen,
        )
    assert upstream_list(cw, vip.cc_id)["description"] == "Changed by a colleague"
    # The mirror now shows what Constant Contact holds, so the form can show it.
    assert caught.value.contact_list.description == "Changed by a colleague"
    vip.refresh_from_db()
    assert vip.description == "Changed by a colleague"
    assert vip.raw["updated_at"] == "2031-01-01T00:00:00Z"


def test_the_favourite_star_keeps_a_rename_made_elsewhere(connected_world):
    cw = connected_world
    events = mirror_lists(cw)["Events"]
    change_upstream(cw, events.cc_id, name="Events 2025", description="Renamed in CC")
    services.list_favorite_set(contact_list=events, membership=cw.membership("editor"),
                               favorite=True)
    upstream = upstream_list(cw, events.cc_id)
    assert (upstream["name"], upstream["description"], upstream["favorite"]) == (
        "Events 2025", "Renamed in CC", True)
    events.refresh_from_db()
    assert (events.name, events.favorite) == ("Events 2025", True)


def test_a_delete_is_pending_until_the_simulators_activity_completes(connected_world):
    cw = connected_world
    mirror_contacts(cw)
    newsletter = mirror_lists(cw)["Newsletter"]
    mirror_contacts(cw)  # now that the lists exist, the memberships land too
    assert ListMembership.objects.filter(contact_list=newsletter).exists()
    editor = cw.membership("editor")

    assert services.list_delete(contact_list=newsletter, membership=editor) is False
    newsletter.refresh_from_db()
    assert newsletter.delete_pending
    assert services.list_delete_settle(contact_list=newsletter, membership=editor).outcome == (
        DeleteOutcome.PENDING)
    assert ContactList.objects.filter(pk=newsletter.pk).exists()

    cw.sim.advance(60)
    check = services.list_delete_settle(contact_list=newsletter, membership=editor)
    assert check.outcome == DeleteOutcome.DELETED
    assert not ContactList.objects.filter(pk=newsletter.pk).exists()
    assert not ListMembership.objects.filter(contact_list_id=newsletter.pk).exists()
    assert upstream_list(cw, newsletter.cc_id).get("deleted_at")


def test_a_member_who_cannot_read_bulk_jobs_still_sees_the_delete_finish(connected_world):
    cw = connected_world
    lists_only = role_save(
        workspace=cw.workspace, actor=cw.admin, name="List keeper", description="",
        grants={Area.LISTS: Access.WRITE}, can_approve=False, can_send=False,
    )
    keeper = MembershipFactory(workspace=cw.workspace, role=lists_only)
    partners = mirror_lists(cw)["Partners"]
    services.list_delete(contact_list=partners, membership=keeper)
    partners.refresh_from_db()
    cw.sim.advance(60)
    check = services.list_delete_settle(contact_list=partners, membership=keeper)
    assert check.outcome == DeleteOutcome.DELETED
    assert not ContactList.objects.filter(pk=partners.pk).exists()


def test_a_list_already_deleted_upstream_leaves_the_mirror_at_once(connected_world):
    cw = connected_world
    partners = mirror_lists(cw)["Partners"]
    change_upstream(cw, partners.cc_id, deleted_at="2031-01-01T00:00:00Z")
    assert services.list_delete(contact_list=partners, membership=cw.membership("editor"))
    assert not ContactList.objects.filter(pk=partners.pk).exists()


def test_a_failed_write_leaves_the_mirror_as_it_was(connected_world, no_backoff):
    cw = connected_world
    vip = mirror_lists(cw)["VIP"]
    cw.control("POST", "faults", error_rate_503=1.0)
    with pytest.raises(UpstreamUnavailable):
        services.list_update(
            contact_list=vip, membership=cw.membership("editor"), name="Renamed",
            description="", favorite=False, seen_updated_at=vip.raw["updated_at"],
        )
    with pytest.raises(UpstreamUnavailable):
        services.list_delete(contact_list=vip, membership=cw.membership("editor"))
    cw.control("DELETE", "faults")
    vip.refresh_from_db()
    assert (vip.name, vip.delete_activity_id) == ("VIP", "")
    assert upstream_list(cw, vip.cc_id)["name"] == "VIP"
