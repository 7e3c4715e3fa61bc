"""Reads of the mirrored audience that more than one area needs: lists by their
Constant Contact ids, and how many contacts a set of lists reaches.

Campaigns read a campaign's audience here rather than from the contacts area
(areas never import one another). Nothing here calls Constant Contact.
"""

from django.db.models import Count, Sum

from apps.accounts.models import Workspace
from apps.mirror.models import Contact, ContactList, EmailStatus, ListMembership

# Contacts Constant Contact sends campaigns to (delivery resolves these only).
SENDABLE = (EmailStatus.EXPLICIT, EmailStatus.IMPLICIT)


def lists_by_cc_id(*, workspace: Workspace | int, cc_ids) -> dict[str, ContactList]:
    """The mirrored lists among `cc_ids`, keyed by Constant Contact id (unknown ids left out)."""
    ids = [str(i) for i in cc_ids]
    if not ids:
        return {}
    return {row.cc_id: row for row in ContactList.objects.filter(workspace=workspace,
                                                                  cc_id__in=ids)}


def list_names(*, workspace: Workspace | int, cc_ids) -> dict[str, str]:
    """{cc_id: name} for the mirrored lists among `cc_ids`."""
    return {cc_id: row.name for cc_id, row in lists_by_cc_id(workspace=workspace,
                                                             cc_ids=cc_ids).items()}


def lists_open_for_use(*, workspace: Workspace) -> list[ContactList]:
    """Every mirrored list not being deleted, by name: what an audience may pick."""
    return list(ContactList.objects.filter(workspace=workspace, delete_activity_id=""))


def lists_have_members(*, workspace: Workspace | int, cc_ids) -> bool:
    """Whether the mirror holds any member of these lists (a contacts sync ran)."""
    return ListMembership.objects.filter(
        contact_list__workspace=workspace, contact_list__cc_id__in=[str(i) for i in cc_ids]
    ).exists()


def sendable_contacts_in_lists(*, workspace: Workspace | int, cc_ids) -> int:
    """Distinct mirrored contacts on any of the lists who can receive email: not
    removed, not unsubscribed, not pending confirmation."""
    return Contact.objects.filter(
        workspace=workspace, deleted_upstream__isnull=True, email_status__in=SENDABLE,
        lists__cc_id__in=[str(i) for i in cc_ids],
    ).aggregate(n=Count("pk", distinct=True))["n"]


def contacts_in_lists(*, workspace: Workspace | int, cc_ids) -> int:
    """Distinct mirrored contacts on any of the lists, subscribed or not (removed
    ones left out): the members `sendable_contacts_in_lists` picks from."""
    return Contact.objects.filter(
        workspace=workspace, deleted_upstream__isnull=True,
        lists__cc_id__in=[str(i) for i in cc_ids],
    ).aggregate(n=Count("pk", distinct=True))["n"]


def lists_member_total(*, lists: list[ContactList]) -> int:
    """The lists' own member counts added up: an upper bound (a contact on two
    lists counts twice, and unsubscribed members count too)."""
    return ContactList.objects.filter(
        pk__in=[row.pk for row in lists]
    ).aggregate(n=Sum("membership_count"))["n"] or 0
