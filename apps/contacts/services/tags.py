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
from apps.mirror.models import Tag
from apps.mirror.services.activities import (
    DeleteCheck,
    DeletePending,
    delete_pending_record,
    delete_pending_settle,
)
from apps.mirror.services.audience import tag_mirror_save


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


def tag_create(*, workspace: Workspace, membership: Membership, name: str) -> Tag:
    result = _gate(workspace, membership).call("tags.create", json={"name": name})
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
    result = _gate(tag.workspace, membership).call("tags.update", tag_id=tag.cc_id,
                                                   json={"name": name})
    return tag_mirror_save(workspace=tag.workspace, data=result.data)


def tag_delete(*, tag: Tag, membership: Membership) -> bool:
    """Ask Constant Contact to delete the tag (and so untag every contact). True if
    it is gone already; False if the row now waits for the activity."""
    if tag.delete_pending:
        return False
    try:
        result = _gate(tag.workspace, membership).call("tags.delete", tag_id=tag.cc_id)
    except NotFound:
        tag.delete()  # already gone upstream: the mirror follows
        return True
    return delete_pending_record(row=tag, answer=result.data)


def tag_delete_settle(*, tag: Tag, membership: Membership) -> DeleteCheck:
    """Ask how the tag's delete is going and settle the mirror (see
    `list_delete_settle`; a deleted tag answers 404 to a GET)."""
    cc = _gate(tag.workspace, membership)

    def gone_upstream() -> bool:
        try:
            cc.call("tags.get", tag_id=tag.cc_id)
        except NotFound:
            return True
        return False

    return delete_pending_settle(row=tag, cc=cc, membership=membership,
                                 gone_upstream=gone_upstream)
