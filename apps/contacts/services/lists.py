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
the activity finish.
"""

from dataclasses import dataclass

from django.db import transaction

from apps.accounts.grants import Access, Area
from apps.accounts.models import Membership, Workspace
from apps.constantcontact.errors import NotFound
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.contacts.mirror import list_mirror_save
from apps.contacts.models import ContactList

# Activity states after which nothing more will happen (contract §3.6).
ACTIVITY_DONE = "completed"
ACTIVITY_GAVE_UP = ("cancelled", "failed", "timed_out")
# Stored when a 202 carried no activity id: the settle check then asks for the
# list itself. Any non-empty value marks the row as pending.
UNKNOWN_ACTIVITY = "unknown"


class ListChangedUpstream(Exception):
    """The list changed in Constant Contact since the edit form was opened; the
    mirror now holds its current values (`contact_list`)."""

    def __init__(self, contact_list: ContactList):
        self.contact_list = contact_list
        super().__init__(f"List {contact_list.cc_id} changed upstream.")


class DeletePending(Exception):
    """The list (or tag, see services/tags.py) is being deleted upstream; it can't
    be changed meanwhile."""


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


def _list_body(*, name: str, description: str, favorite: bool) -> dict:
    return {"name": name, "description": description, "favorite": favorite}


def list_create(
    *, workspace: Workspace, membership: Membership, name: str, description: str = "",
    favorite: bool = False,
) -> ContactList:
    result = _gate(workspace, membership).lists_create(
        body=_list_body(name=name, description=description, favorite=favorite)
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
    current = cc.lists_get(list_id=contact_list.cc_id).data
    if seen_updated_at and current.get("updated_at") != seen_updated_at:
        row = list_mirror_save(workspace=contact_list.workspace, data=current)
        raise ListChangedUpstream(row)
    result = cc.lists_update(
        list_id=contact_list.cc_id,
        body=_list_body(name=name, description=description, favorite=favorite),
    )
    return list_mirror_save(workspace=contact_list.workspace, data=result.data)


def list_favorite_set(
    *, contact_list: ContactList, membership: Membership, favorite: bool
) -> ContactList:
    """Star or unstar a list: read it, then PUT Constant Contact's own name and
    description back with the new flag (a PUT replaces all three)."""
    if contact_list.delete_pending:
        raise DeletePending()
    cc = _gate(contact_list.workspace, membership)
    current = cc.lists_get(list_id=contact_list.cc_id).data
    result = cc.lists_update(
        list_id=contact_list.cc_id,
        body=_list_body(
            name=current.get("name") or contact_list.name,
            description=current.get("description") or "",
            favorite=favorite,
        ),
    )
    return list_mirror_save(workspace=contact_list.workspace, data=result.data)


def list_delete(*, contact_list: ContactList, membership: Membership) -> bool:
    """Ask Constant Contact to delete the list. True if it is gone already (it was
    deleted elsewhere, or the activity finished at once); False if the row now
    waits for the activity (`delete_activity_id`)."""
    if contact_list.delete_pending:
        return False
    try:
        result = _gate(contact_list.workspace, membership).lists_delete(
            list_id=contact_list.cc_id
        )
    except NotFound:
        # Already deleted upstream (elsewhere, or by an earlier attempt): the
        # mirror follows Constant Contact's answer.
        contact_list.delete()
        return True
    activity = result.data if isinstance(result.data, dict) else {}
    if activity.get("state") == ACTIVITY_DONE:
        contact_list.delete()
        return True
    contact_list.delete_activity_id = str(activity.get("activity_id") or UNKNOWN_ACTIVITY)
    contact_list.save(update_fields=["delete_activity_id"])
    return False


class DeleteOutcome:
    IDLE = "idle"  # nothing was pending
    PENDING = "pending"
    DELETED = "deleted"
    FAILED = "failed"


@dataclass(frozen=True)
class DeleteCheck:
    outcome: str
    percent_done: int | None = None


def delete_activity_state(
    *, cc: ConstantContact, membership: Membership, activity_id: str
) -> tuple[str | None, int | None]:
    """(state, percent_done) of a delete activity, or (None, None) when it can't be
    read: no id was given, it is gone, or the member's role may not read bulk
    jobs (asked beforehand, so polling doesn't fill the audit log with refusals).
    Shared with the tags' deletes."""
    if activity_id == UNKNOWN_ACTIVITY or not membership.role.allows(Area.BULK, Access.READ):
        return None, None
    try:
        activity = cc.call("activities.get", activity_id=activity_id).data or {}
    except NotFound:
        return None, None
    return activity.get("state"), activity.get("percent_done")


def list_delete_settle(*, contact_list: ContactList, membership: Membership) -> DeleteCheck:
    """Ask Constant Contact how the list's delete is going and settle the mirror:
    completed → the row goes (its memberships with it); failed, cancelled or
    timed out → the row stays and is no longer pending; otherwise unchanged.

    The activity lives under the bulk-jobs area. A member who may read lists but
    not bulk jobs still sees the delete finish: for them the list itself is read
    (gone or carrying `deleted_at` means done), which needs only lists: read.
    """
    if not contact_list.delete_pending:
        return DeleteCheck(DeleteOutcome.IDLE)
    cc = _gate(contact_list.workspace, membership)
    state, percent = delete_activity_state(
        cc=cc, membership=membership, activity_id=contact_list.delete_activity_id
    )
    if state is None:
        try:
            current = cc.lists_get(list_id=contact_list.cc_id).data or {}
            state = ACTIVITY_DONE if current.get("deleted_at") else "processing"
        except NotFound:
            state = ACTIVITY_DONE
    if state == ACTIVITY_DONE:
        contact_list.delete()
        return DeleteCheck(DeleteOutcome.DELETED, 100)
    if state in ACTIVITY_GAVE_UP:
        contact_list.delete_activity_id = ""
        contact_list.save(update_fields=["delete_activity_id"])
        return DeleteCheck(DeleteOutcome.FAILED)
    return DeleteCheck(DeleteOutcome.PENDING, percent)
