"""Writes for contact lists: create, edit (rename, describe, favourite), delete,
and settling a pending delete.

Each write goes to Constant Contact through the gate, acting for the member,
and only then updates the mirror from Constant Contact's answer, so a refused
or failed call leaves the mirror exactly as it was. The gate is never called
inside a transaction (it refuses: a token refresh must commit).

`PUT /contact_lists/{id}` takes the whole list (name, description, favourite),
so an edit first reads the list: the favourite toggle merges into what
Constant Contact holds now (a stale mirror must not undo a rename made
elsewhere), and the edit form refuses to overwrite a list that changed upstream
since the form was opened.

A delete is asynchronous upstream (202 + an activity, contract §3.2): the row
keeps the activity id and shows as pending until `list_delete_settle` sees
the activity finish (apps.mirror.services.activities).
"""

from django.db import transaction

from apps.accounts.models import Membership, Workspace
from apps.constantcontact.errors import NotFound
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.mirror.models import ContactList
from apps.mirror.services.activities import (
    DeleteCheck,
    DeletePending,
    delete_pending_record,
    delete_pending_settle,
)
from apps.mirror.services.audience import list_mirror_save


class ListChangedUpstream(Exception):
    """The list changed in Constant Contact since the edit form was opened; the
    mirror now holds its current values (`contact_list`)."""

    def __init__(self, contact_list: ContactList):
        self.contact_list = contact_list
        super().__init__(f"List {contact_list.cc_id} changed upstream.")


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


def _list_body(*, name: str, description: str, favorite: bool) -> dict:
    return {"name": name, "description": description, "favorite": favorite}


def list_create(
    *, workspace: Workspace, membership: Membership, name: str, description: str = "",
    favorite: bool = False,
) -> ContactList:
    result = _gate(workspace, membership).call(
        "lists.create", json=_list_body(name=name, description=description, favorite=favorite),
    )
    with transaction.atomic():
        row = list_mirror_save(workspace=workspace, data=result.data)
        if row.membership_count is None:
            # The 201 carries no count (ContactListPutPost); a new list has no members.
            row.membership_count = 0
            row.save(update_fields=["membership_count"])
    return row


def list_update(
    *, contact_list: ContactList, membership: Membership, name: str, description: str,
    favorite: bool, seen_updated_at: str,
) -> ContactList:
    """Save the member's edit. `seen_updated_at` is the list's `updated_at` exactly
    as Constant Contact sent it when the form was opened (blank: unknown, not
    checked). If Constant Contact's differs now, nothing is written upstream, the
    mirror is refreshed and ListChangedUpstream asks the member to look again."""
    if contact_list.delete_pending:
        raise DeletePending()
    cc = _gate(contact_list.workspace, membership)
    current = cc.call("lists.get", list_id=contact_list.cc_id).data
    if seen_updated_at and current.get("updated_at") != seen_updated_at:
        row = list_mirror_save(workspace=contact_list.workspace, data=current)
        raise ListChangedUpstream(row)
    result = cc.call("lists.update", list_id=contact_list.cc_id,
                     json=_list_body(name=name, description=description, favorite=favorite))
    return list_mirror_save(workspace=contact_list.workspace, data=result.data)


def list_favorite_set(
    *, contact_list: ContactList, membership: Membership, favorite: bool
) -> ContactList:
    """Star or unstar a list: read it, then PUT Constant Contact's own name and
    description back with the new flag (a PUT replaces all three)."""
    if contact_list.delete_pending:
        raise DeletePending()
    cc = _gate(contact_list.workspace, membership)
    current = cc.call("lists.get", list_id=contact_list.cc_id).data
    result = cc.call("lists.update", list_id=contact_list.cc_id, json=_list_body(
            name=current.get("name") or contact_list.name,
            description=current.get("description") or "",
            favorite=favorite,
        ))
    return list_mirror_save(workspace=contact_list.workspace, data=result.data)


def list_delete(*, contact_list: ContactList, membership: Membership) -> bool:
    """Ask Constant Contact to delete the list. True if it is gone already (it was
    deleted elsewhere, or the activity finished at once); False if the row now
    waits for the activity (`delete_activity_id`)."""
    if contact_list.delete_pending:
        return False
    try:
        result = _gate(contact_list.workspace, membership).call("lists.delete",
                                                                list_id=contact_list.cc_id)
    except NotFound:
        # Already deleted upstream (elsewhere, or by an earlier attempt): the
        # mirror follows Constant Contact's answer.
        contact_list.delete()
        return True
    return delete_pending_record(row=contact_list, answer=result.data)


def list_delete_settle(*, contact_list: ContactList, membership: Membership) -> DeleteCheck:
    """Ask Constant Contact how the list's delete is going and settle the mirror:
    completed → the row goes (its memberships with it); failed, cancelled or
    timed out → the row stays and is no longer pending; otherwise unchanged.

    The activity lives under the bulk-jobs area. A member who may read lists but
    not bulk jobs still sees the delete finish: for them the list itself is read
    (gone or carrying `deleted_at` means done), which needs only lists: read.
    """
    cc = _gate(contact_list.workspace, membership)

    def gone_upstream() -> bool:
        try:
            current = cc.call("lists.get", list_id=contact_list.cc_id).data or {}
        except NotFound:
            return True
        return bool(current.get("deleted_at"))

    return delete_pending_settle(row=contact_list, cc=cc, membership=membership,
                                 gone_upstream=gone_upstream)
