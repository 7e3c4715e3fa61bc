"""The lists selectors on local rows (no simulator): a list's members a page at a
time by keyset, the member count, the allowance, and lookups scoped to the
workspace."""

from django.http import Http404
import pytest

from apps.contacts.selectors.lists import (
    CollectionUsage,
    contact_list_for,
    list_members_page,
    list_mirrored_member_count,
    list_usage,
)
from apps.mirror.models import Contact, ListMembership
from tests.factories import ContactListFactory


@pytest.fixture
def newsletter(world):
    row = ContactListFactory(workspace=world.workspace, name="Newsletter")
    contacts = Contact.objects.bulk_create([
        Contact(workspace=world.workspace, cc_id=f"c-{n}", email=f"person{n}@example.com")
        for n in range(12)
    ])
    ListMembership.objects.bulk_create([
        ListMembership(contact=c, contact_list=row) for c in contacts[:11]
    ])
    return row


def test_members_come_a_page_at_a_time_without_gaps_or_repeats(newsletter):
    seen, after = [], None
    while True:
        page = list_members_page(contact_list=newsletter, after=after, size=5)
        seen += [c.email for c in page.contacts]
        if page.next_after is None:
            break
        after = page.next_after
    assert len(seen) == len(set(seen)) == 11
    assert "person11@example.com" not in seen  # not a member


def test_the_last_full_page_has_no_next_page(newsletter):
    first = list_members_page(contact_list=newsletter, size=11)
    assert len(first.contacts) == 11 and first.next_after is None


def test_the_member_count_is_the_mirrors(newsletter):
    assert list_mirrored_member_count(contact_list=newsletter) == 11


def test_another_workspaces_list_is_not_found(world, newsletter):
    with pytest.raises(Http404):
        contact_list_for(workspace=world.other_workspace, list_id=newsletter.pk)
    assert contact_list_for(workspace=world.workspace, list_id=newsletter.pk) == newsletter


def test_the_allowance_counts_pending_deletes_too(world, newsletter):
    ContactListFactory(workspace=world.workspace, name="Old", delete_activity_id="act-1")
    assert list_usage(workspace=world.workspace).used == 2


def test_usage_warns_near_the_limit_and_stops_at_it():
    assert not CollectionUsage(used=449, limit=500, warn_from=450).is_near
    assert CollectionUsage(used=450, limit=500, warn_from=450).is_near
    full = CollectionUsage(used=500, limit=500, warn_from=450)
    assert full.is_full and not full.is_near and full.left == 0
