"""Reads for the lists screens: the workspace's mirrored lists, one list by id
(404 for another workspace's), a page of a list's members, and how close the
account is to Constant Contact's limit on lists.

Nothing here calls Constant Contact: browsing the lists costs no API quota.
`CollectionUsage` is shared with the tags and custom-field screens, which have
limits of their own.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import Workspace
from apps.mirror.models import Contact, ContactList, ListMembership
from apps.mirror.selectors.audience import sendable_contacts_in_lists

# Constant Contact allows at most 1,000 lists per account (contract §3.2 via the
# catalog's lists.create notes); warn when nine tenths are used.
MAX_LISTS = 1000
LISTS_WARN_FROM = 900
# Members shown per page on a list's page; the contacts screen does the heavy browsing.
MEMBERS_PAGE_SIZE = 50


@dataclass(frozen=True)
class CollectionUsage:
    """How many of an account-wide allowance are used (lists, tags, custom fields)."""

    used: int
    limit: int
    warn_from: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def is_full(self) -> bool:
        return self.used >= self.limit

    @property
    def is_near(self) -> bool:
        return self.warn_from <= self.used < self.limit


def list_rows(*, workspace: Workspace) -> QuerySet[ContactList]:
    """Every mirrored list of the workspace, by name (the model's ordering)."""
    return ContactList.objects.filter(workspace=workspace).only(
        "id", "workspace_id", "cc_id", "name", "description", "favorite", "membership_count",
        "updated_upstream", "delete_activity_id",
    )


def contact_list_for(*, workspace: Workspace, list_id: int) -> ContactList:
    """The workspace's list `list_id`; 404 for any other workspace's list."""
    return get_object_or_404(ContactList, pk=list_id, workspace=workspace)


def list_usage(*, workspace: Workspace) -> CollectionUsage:
    # Lists whose delete is pending still count upstream until the activity finishes.
    used = ContactList.objects.filter(workspace=workspace).count()
    return CollectionUsage(used=used, limit=MAX_LISTS, warn_from=LISTS_WARN_FROM)


@dataclass(frozen=True)
class MembersPage:
    contacts: list[Contact]
    next_after: int | None  # the keyset cursor for the next page, None on the last


def list_members_page(
    *, contact_list: ContactList, after: int | None = None, size: int = MEMBERS_PAGE_SIZE
) -> MembersPage:
    """One page of the list's mirrored members, keyset-paginated by the contact's
    row id: the (contact_list, contact) index serves it without sorting, so a
    page costs the same at 100 members or 100,000. Searching and sorting the
    members is the contacts screen's job (filtered by this list)."""
    members = Contact.objects.filter(listmembership__contact_list=contact_list).only(
        "id", "cc_id", "email", "first_name", "last_name", "email_status", "deleted_upstream",
    )
    if after is not None:
        members = members.filter(pk__gt=after)
    rows = list(members.order_by("pk")[: size + 1])
    next_after = rows[size - 1].pk if len(rows) > size else None
    return MembersPage(contacts=rows[:size], next_after=next_after)


def list_mirrored_member_count(*, contact_list: ContactList) -> int:
    """Members in the mirror (one index range count); may lag Constant Contact's
    own `membership_count` until the next sync."""
    return ListMembership.objects.filter(contact_list=contact_list).count()


def list_sendable_member_count(*, contact_list: ContactList) -> int:
    """Members who can receive email (subscribed, not removed): the number a
    campaign's pre-send check counts for this list."""
    return sendable_contacts_in_lists(workspace=contact_list.workspace_id,
                                      cc_ids=[contact_list.cc_id])
