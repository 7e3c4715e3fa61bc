"""Writes for tags: create, rename, delete, and settling a pending delete.

As with lists, every write goes through the gate first and the mirror follows
Constant Contact's answer; the gate is never called inside a transaction.
`PUT /contact_tags/{id}` takes only the name (tag_source can't change, contract
§3.3), so a rename can't lose anything and needs no read first. A delete is
asynchronous (202 + an activity): the row shows as pending until
`tag_delete_settle` sees the activity finish.
"""

from django.db import transaction

from apps.accounts.models import Membership, Workspace
from apps.constantcontact.errors import NotFound
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.contacts.mirror import tag_mirror_save
from apps.contacts.models import Tag
from apps.contacts.services.lists import (
    ACTIVITY_DONE,
    ACTIVITY_GAVE_UP,
    UNKNOWN_ACTIVITY,
    DeleteCheck,
    DeleteOutcome,
    DeletePending,
    delete_activity_state,
)

__all__ = [
    "DeleteCheck", "DeleteOutcome", "DeletePending", "tag_create", "tag_delete",
    "tag_delete_settle", "tag_rename",
]


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


def tag_create(*, workspace: Workspace, membership: Membership, name: str) -> Tag:
    result = _gate(workspace, membership).tags_create(body={"name": name})
    with transaction.atomic():
        row = tag_mirror_save(workspace=workspace, data=result.data)
        if row.contacts_count is None:
            # The 201 carries no count; a new tag is on no contact yet.
            row.contacts_count = 0
            row.save(update_fields=["contacts_count"])
    return row


def tag_rename(*, tag: Tag, membership: Membership, name: str) -> Tag:
    if tag.delete_pending:
        raise DeletePending()
    result = _gate(tag.workspace, membership).tags_update(tag_id=tag.cc_id, body={"name": name})
    return tag_mirror_save(workspace=tag.workspace, data=result.data)


def tag_delete(*, tag: Tag, membership: Membership) -> bool:
    """Ask Constant Contact to delete the tag (and so untag every contact). True if
    it is gone already; False if the row now waits for the activity."""
    if tag.delete_pending:
        return False
    try:
        result = _gate(tag.workspace, membership).tags_delete(tag_id=tag.cc_id)
    except NotFound:
        tag.delete()  # already gone upstream: the mirror follows
        return True
    activity = result.data if isinstance(result.data, dict) else {}
    if activity.get("state") == ACTIVITY_DONE:
        tag.delete()
        return True
    tag.delete_activity_id = str(activity.get("activity_id") or UNKNOWN_ACTIVITY)
    tag.save(update_fields=["delete_activity_id"])
    return False


def tag_delete_settle(*, tag: Tag, membership: Membership) -> DeleteCheck:
    """Ask how the tag's delete is going and settle the mirror (see
    `list_delete_settle`; a deleted tag answers 404 to a GET)."""
    if not tag.delete_pending:
        return DeleteCheck(DeleteOutcome.IDLE)
    cc = _gate(tag.workspace, membership)
    state, percent = delete_activity_state(
        cc=cc, membership=membership, activity_id=tag.delete_activity_id
    )
    if state is None:
        try:
            cc.tags_get(tag_id=tag.cc_id)
            state = "processing"
        except NotFound:
            state = ACTIVITY_DONE
    if state == ACTIVITY_DONE:
        tag.delete()  # its taggings go with it
        return DeleteCheck(DeleteOutcome.DELETED, 100)
    if state in ACTIVITY_GAVE_UP:
        tag.delete_activity_id = ""
        tag.save(update_fields=["delete_activity_id"])
        return DeleteCheck(DeleteOutcome.FAILED)
    return DeleteCheck(DeleteOutcome.PENDING, percent)
