"""Writes for segments: create, edit (name and criteria together), rename, delete.

Each goes to Constant Contact through the gate, acting for the member, and only
then updates the mirror from Constant Contact's answer (a refused call leaves the
mirror as it was), then records the change in the audit log. The gate is never
called inside a transaction.

The traps (contract §3.5): `segment_criteria` is the JSON serialised into one
string; `PUT /segments/{id}` needs both the name and the criteria every time, even
to change one of them; renaming alone is `PATCH /segments/{id}/name`; and before
a delete ccadmin checks that no scheduled campaign sends to the segment, as the
spec asks. An account holds at most 100 segments, checked before asking.
"""

from django.db import transaction

from apps.accounts.models import Membership, Workspace
from apps.audit.services import audit_event_record
from apps.constantcontact.errors import Conflict, NotFound
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.mirror.criteria import Criteria, criteria_dumps
from apps.mirror.models import Campaign, Segment
from apps.mirror.selectors.segments import campaigns_using_segment
from apps.mirror.services.segments import segment_mirror_delete, segment_mirror_save
from apps.segments.selectors.segments import MAX_SEGMENTS, segment_usage


class SegmentLimitReached(Exception):
    """The account already has Constant Contact's maximum number of segments."""


class SegmentChangedUpstream(Exception):
    """The segment changed in Constant Contact since the form was opened; the mirror
    now holds its current name and criteria (`segment`)."""

    def __init__(self, segment: Segment):
        self.segment = segment
        super().__init__(f"Segment {segment.cc_id} changed upstream.")


class SegmentInUse(Exception):
    """A scheduled campaign sends to the segment, so it must not be deleted."""

    def __init__(self, campaigns: list[Campaign]):
        self.campaigns = campaigns
        super().__init__("The segment is the audience of a scheduled campaign.")


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


def _audit(action: str, *, membership: Membership, segment: Segment, **details) -> None:
    audit_event_record(
        action=action, actor=membership.user, workspace=segment.workspace,
        target=f"segment {segment.cc_id}", details={"name": segment.name, **details},
    )


def segment_create(*, workspace: Workspace, membership: Membership, name: str,
                   criteria: Criteria) -> Segment:
    """Create the segment in Constant Contact and mirror it. Raises
    SegmentLimitReached at the limit, Conflict (409) for a name in use, and
    ValidationError for criteria Constant Contact refuses."""
    if segment_usage(workspace=workspace).is_full:
        raise SegmentLimitReached(f"The account already has {MAX_SEGMENTS} segments.")
    answer = _gate(workspace, membership).call(
        "segments.create", json={"name": name, "segment_criteria": criteria_dumps(criteria)},
    )
    with transaction.atomic():
        segment = segment_mirror_save(workspace=workspace, data=answer.data)
    _audit("segment.created", membership=membership, segment=segment)
    return segment


def segment_update(*, segment: Segment, membership: Membership, name: str, criteria: Criteria,
                   seen_edited_at: str) -> Segment:
    """Save the member's name and criteria with one PUT carrying both (Constant
    Contact requires both). `seen_edited_at` is the segment's `edited_at` as
    Constant Contact sent it when the form was opened (blank: not checked); if it
    differs now, nothing is written and SegmentChangedUpstream says so."""
    workspace = segment.workspace
    cc = _gate(workspace, membership)
    current = cc.call("segments.get", segment_id=segment.cc_id).data or {}
    if seen_edited_at and current.get("edited_at") != seen_edited_at:
        with transaction.atomic():
            fresh = segment_mirror_save(workspace=workspace, data=current)
        raise SegmentChangedUpstream(fresh)
    answer = cc.call("segments.update", segment_id=segment.cc_id, json={
        "name": name, "segment_criteria": criteria_dumps(criteria),
    })
    old_name = segment.name
    with transaction.atomic():
        segment = segment_mirror_save(workspace=workspace, data=answer.data)
    _audit("segment.updated", membership=membership, segment=segment, previous_name=old_name)
    return segment


def segment_rename(*, segment: Segment, membership: Membership, name: str) -> Segment:
    """Rename only (`PATCH /segments/{id}/name`): the criteria are left alone.
    Raises Conflict for a name in use."""
    answer = _gate(segment.workspace, membership).call(
        "segments.rename", segment_id=segment.cc_id, json={"name": name},
    )
    data = answer.data if isinstance(answer.data, dict) and answer.data.get("segment_id") else {
        **(segment.raw or {}), "segment_id": segment.cc_id, "name": name,
    }
    old_name = segment.name
    with transaction.atomic():
        segment = segment_mirror_save(workspace=segment.workspace, data=data)
    _audit("segment.renamed", membership=membership, segment=segment, previous_name=old_name)
    return segment


def segment_delete(*, segment: Segment, membership: Membership) -> None:
    """Delete the segment in Constant Contact (its contacts stay) and drop it from
    the mirror. Raises SegmentInUse when a scheduled campaign sends to it — by the
    mirror, or by Constant Contact's own refusal (409)."""
    scheduled = campaigns_using_segment(workspace=segment.workspace_id, cc_id=segment.cc_id,
                                        scheduled_only=True)
    if scheduled:
        raise SegmentInUse(scheduled)
    try:
        _gate(segment.workspace, membership).call("segments.delete", segment_id=segment.cc_id)
    except NotFound:
        pass  # deleted already, elsewhere: the mirror follows Constant Contact
    except Conflict as exc:
        raise SegmentInUse([]) from exc
    _audit("segment.deleted", membership=membership, segment=segment)
    with transaction.atomic():
        segment_mirror_delete(segment=segment)
