"""Pending asynchronous activities: deletes that Constant Contact finishes later.

Deleting a list or a tag answers 202 with an activity (contract §3.2, §3.3): the
row stays in the mirror, marked with the activity's id, until a check sees the
activity finish. `delete_pending_record` notes Constant Contact's answer on the
row; `delete_pending_settle` asks how the activity is going and settles the row.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apps.accounts.grants import Access, Area
from apps.accounts.models import Membership
from apps.constantcontact.errors import NotFound
from apps.constantcontact.gate import ConstantContact
from apps.mirror.models import MirroredModel

# Activity states after which nothing more will happen (contract §3.6).
ACTIVITY_DONE = "completed"
ACTIVITY_GAVE_UP = ("cancelled", "failed", "timed_out")
# Stored when a 202 carried no activity id: the settle check then asks for the
# row's resource itself. Any non-empty value marks the row as pending.
UNKNOWN_ACTIVITY = "unknown"


class DeletePending(Exception):
    """The row is being deleted upstream; it can't be changed meanwhile."""


class DeleteOutcome:
    IDLE = "idle"  # nothing was pending
    PENDING = "pending"
    DELETED = "deleted"
    FAILED = "failed"


@dataclass(frozen=True)
class DeleteCheck:
    outcome: str
    percent_done: int | None = None


def activity_state(
    *, cc: ConstantContact, membership: Membership, activity_id: str
) -> tuple[str | None, int | None]:
    """(state, percent_done) of an activity, or (None, None) when it can't be read:
    no id was given, it is gone, or the member's role may not read bulk jobs
    (asked beforehand, so polling doesn't fill the audit log with refusals)."""
    if activity_id == UNKNOWN_ACTIVITY or not membership.role.allows(Area.BULK, Access.READ):
        return None, None
    try:
        activity = cc.call("activities.get", activity_id=activity_id).data or {}
    except NotFound:
        return None, None
    return activity.get("state"), activity.get("percent_done")


def delete_pending_record(*, row: MirroredModel, answer: Any) -> bool:
    """Note Constant Contact's answer to a delete on `row`. True if the row is gone
    already (the activity finished at once); False if it now waits for it."""
    activity = answer if isinstance(answer, dict) else {}
    if activity.get("state") == ACTIVITY_DONE:
        row.delete()
        return True
    row.delete_activity_id = str(activity.get("activity_id") or UNKNOWN_ACTIVITY)
    row.save(update_fields=["delete_activity_id"])
    return False


def delete_pending_settle(
    *, row: MirroredModel, cc: ConstantContact, membership: Membership,
    gone_upstream: Callable[[], bool],
) -> DeleteCheck:
    """Ask how `row`'s delete is going and settle the mirror: completed → the row
    goes; failed, cancelled or timed out → it stays and is no longer pending;
    otherwise unchanged.

    The activity lives under the bulk-jobs area. A member who may read the row's
    area but not bulk jobs still sees the delete finish: `gone_upstream` asks the
    resource itself (a GET that needs only the row's own area).
    """
    if not row.delete_activity_id:
        return DeleteCheck(DeleteOutcome.IDLE)
    state, percent = activity_state(cc=cc, membership=membership,
                                    activity_id=row.delete_activity_id)
    if state is None:
        state = ACTIVITY_DONE if gone_upstream() else "processing"
    if state == ACTIVITY_DONE:
        row.delete()  # its memberships or taggings go with it
        return DeleteCheck(DeleteOutcome.DELETED, 100)
    if state in ACTIVITY_GAVE_UP:
        row.delete_activity_id = ""
        row.save(update_fields=["delete_activity_id"])
        return DeleteCheck(DeleteOutcome.FAILED)
    return DeleteCheck(DeleteOutcome.PENDING, percent)
