"""A full sync against the simulator: every contact (deleted ones as removed),
list, tag and custom field mirrored with the right memberships, in about one
call per 500 contacts, and whatever Constant Contact no longer has is dropped."""

from datetime import timedelta
import math

from django.utils import timezone
import pytest

from apps.mirror.mapping import contact_fields_from_upstream
from apps.mirror.models import (
    Contact,
    ContactList,
    CustomField,
    ListMembership,
    SyncRun,
    Tag,
    Tagging,
)
from tests.constantcontact.helpers_sim import RequestLog
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    TagFactory,
)

# More than two pages of 500, few enough to seed in a blink.
SEEDED = 1_203
SMALL_COLLECTIONS = 3  # lists, tags, custom fields: one page each


@pytest.fixture
def sim_contacts() -> int:
    return SEEDED


@pytest.fixture
def log(connected_world) -> RequestLog:
    return RequestLog(connected_world.sim)


def upstream(world) -> dict:
    with world.sim.state.lock:
        st = world.sim.state
        return {
            "contacts": {cid: dict(c) for cid, c in st.contacts.items()},
            "lists": set(st.active_lists()),
            "tags": set(st.active_tags()),
            "fields": set(st.custom_fields),
        }


def test_it_mirrors_every_contact_list_tag_and_custom_field(connected_world, run_sync):
    run = run_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    sim = upstream(connected_world)
    ws = connected_world.workspace
    assert set(Contact.objects.filter(workspace=ws).values_list("cc_id", flat=True)) == set(
        sim["contacts"]
    )
    assert set(ContactList.objects.filter(workspace=ws).values_list("cc_id", flat=True)) == sim[
        "lists"
    ]
    assert set(Tag.objects.filter(workspace=ws).values_list("cc_id", flat=True)) == sim["tags"]
    assert set(CustomField.objects.filter(workspace=ws).values_list("cc_id", flat=True)) == sim[
        "fields"
    ]
    assert run.created_count == run.processed == run.total_expected == SEEDED
    assert run.high_water_mark is not None and run.finished_at is not None


def test_memberships_taggings_and_fields_match_the_upstream(connected_world, run_sync):
    run_sync("full")

    sim = upstream(connected_world)
    memberships = {
        (cc_id, list_cc_id)
        for cc_id, list_cc_id in ListMembership.objects.values_list(
            "contact__cc_id", "contact_list__cc_id"
        )
    }
    assert memberships == {
        (cid, lid) for cid, c in sim["contacts"].items() for lid in c.get("list_memberships") or []
    }
    taggings = set(Tagging.objects.values_list("contact__cc_id", "tag__cc_id"))
    assert taggings == {
        (cid, tid) for cid, c in sim["contacts"].items() for tid in c.get("taggings") or []
    }
    with_field = next(cid for cid, c in sim["contacts"].items() if c.get("custom_fields"))
    mirrored = Contact.objects.get(cc_id=with_field)
    assert mirrored.custom_fields == sim["contacts"][with_field]["custom_fields"]
    assert mirrored.email == sim["contacts"][with_field]["email_address"]["address"]
    newsletter = ContactList.objects.get(name="Newsletter")
    assert newsletter.membership_count == newsletter.contacts.filter(
        deleted_upstream__isnull=True
    ).count()
    assert all(tag.contacts_count is not None for tag in Tag.objects.all())


def test_contacts_deleted_upstream_are_mirrored_as_removed(connected_world, run_sync):
    run_sync("full")

    contacts = upstream(connected_world)["contacts"]
    deleted = {cid for cid, c in contacts.items() if c.get("deleted_at")}
    assert deleted  # the seed deletes about 1%
    removed = Contact.objects.filter(deleted_upstream__isnull=False)
    assert set(removed.values_list("cc_id", flat=True)) == deleted
    assert {c.status for c in removed} == {"removed"}


def test_it_costs_one_call_per_500_contacts_plus_the_small_collections(
    connected_world, run_sync, log
):
    run = run_sync("full")

    api = log.api()
    assert run.api_calls == len(api) == math.ceil(SEEDED / 500) + SMALL_COLLECTIONS
    assert [a.path for a in api].count("/v3/contacts") == math.ceil(SEEDED / 500)


def test_a_second_full_sync_rewrites_nothing_that_did_not_change(connected_world, run_sync):
    run_sync("full")
    before = dict(Contact.objects.values_list("cc_id", "updated_upstream"))

    again = run_sync("full")

    assert again.status == SyncRun.Status.SUCCEEDED
    assert (again.created_count, again.updated_count, again.deleted_count) == (0, 0, 0)
    assert again.processed == SEEDED
    assert dict(Contact.objects.values_list("cc_id", "updated_upstream")) == before


def test_it_drops_mirrored_rows_constant_contact_no_longer_has(connected_world, run_sync):
    run_sync("full")
    ws = connected_world.workspace
    # Rows the account doesn't have (left from an earlier connection, say).
    ContactFactory(workspace=ws, cc_id="gone-contact")
    ContactListFactory(workspace=ws, cc_id="gone-list")
    TagFactory(workspace=ws, cc_id="gone-tag")
    CustomFieldFactory(workspace=ws, cc_id="gone-field")
    # And one deleted upstream through the API.
    field_id = CustomField.objects.filter(workspace=ws).exclude(cc_id="gone-field").first().cc_id
    connected_world.gate("editor").call("custom_fields.delete", custom_field_id=field_id)

    run = run_sync("full")

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.deleted_count == 1  # contacts only: the stray one
    assert not Contact.objects.filter(cc_id="gone-contact").exists()
    assert not ContactList.objects.filter(cc_id="gone-list").exists()
    assert not Tag.objects.filter(cc_id="gone-tag").exists()
    assert not CustomField.objects.filter(cc_id__in=["gone-field", field_id]).exists()
    assert Contact.objects.filter(workspace=ws).count() == SEEDED


def test_a_list_being_deleted_stays_pending_until_constant_contact_stops_listing_it(
    connected_world, run_sync
):
    run_sync("full")
    doomed = ContactList.objects.get(name="Partners")
    members = doomed.contacts.count()
    assert members
    # Constant Contact deletes a list in the background (202 + an activity); the
    # simulator's activity waits until its clock is moved on.
    connected_world.sim.options.activity_start_delay = 3600
    answer = connected_world.gate("editor").call("lists.delete", list_id=doomed.cc_id)
    doomed.delete_activity_id = answer.data["activity_id"]
    doomed.save()

    run_sync("incremental")

    doomed.refresh_from_db()
    assert doomed.delete_pending and doomed.contacts.count() == members

    connected_world.sim.advance(3600 + 60)  # the delete activity completes
    run_sync("incremental")

    assert not ContactList.objects.filter(pk=doomed.pk).exists()
    assert not ListMembership.objects.filter(contact_list_id=doomed.pk).exists()


def test_a_member_write_during_the_sync_is_not_dropped_as_unseen(connected_world, run_sync):
    """Rows stamped after the sync started (a member's edit) are never taken for gone."""
    run_sync("full")
    ws = connected_world.workspace
    # As if written by a member while the next sync was reading pages.
    ContactFactory(workspace=ws, cc_id="fresh", synced_at=timezone.now() + timedelta(minutes=1))

    run_sync("full")

    assert Contact.objects.filter(cc_id="fresh").exists()


def test_every_column_holds_what_the_mirror_mapping_says(connected_world, run_sync):
    """The batched writes store exactly what contact_fields_from_upstream maps."""
    run_sync("full")
    sample = Contact.objects.filter(workspace=connected_world.workspace).order_by("pk")[:300]
    rich = [c for c in sample if c.phone_numbers and c.street_addresses and c.custom_fields]
    assert rich

    for contact in sample:
        expected = contact_fields_from_upstream(contact.raw)
        assert {name: getattr(contact, name) for name in expected} == expected
        assert contact.raw["contact_id"] == contact.cc_id
        assert contact.updated_upstream.tzinfo is not None
