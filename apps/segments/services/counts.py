"""Exact segment counts from Constant Contact, asked for by a member.

    count, created = segment_count_start(segment=segment, membership=request.membership)
    # ... a worker then runs segment_count_run(count_id=...) through `segments.count`.

Constant Contact has no count endpoint for a segment: `GET /contacts?segment_id=`
"can only be combined with the limit query parameter" (spec getContacts), so the
count pages through the segment's contacts, 500 at a time (N contacts cost
N/500 calls). While Constant Contact is still evaluating a segment it answers
202 with no contacts; "retry ... to return the completed results and a 200".
The task retries a few seconds later, at most MAX_EVALUATING_ANSWERS times
(about a minute), then gives up with a message, so neither the worker nor the
page polling the row waits for ever.

The calls need the contacts read grant (they list contacts) and go through the
gate as a job acting for the member, from the interactive reserve: a member is
waiting for the answer.
"""

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from apps.accounts.grants import Access, Area
from apps.accounts.models import Membership
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, gate_for
from apps.core.jobs import enqueue
from apps.mirror.models import Segment
from apps.segments.models import SegmentCount

TASK_NAME = "segments.count"
PAGE_SIZE = 500  # the most GET /contacts returns at once (contract §3.1)
# Constant Contact's 202 says "retry"; every EVALUATING_RETRY_SECONDS, twenty times
# — about a minute — is longer than the simulator or a small account needs, and
# short enough that the member watching the page gets an answer.
EVALUATING_RETRY_SECONDS = 3
MAX_EVALUATING_ANSWERS = 20
NEEDS_CONTACTS_READ = (
    "Counting a segment in Constant Contact lists its contacts, which your role may not "
    "read."
)
NEEDS_SEGMENTS_WRITE = (
    "Asking Constant Contact for an exact count spends calls from the shared daily "
    "allowance, which takes write access to segments. The estimate above is free."
)


class CountNotAllowed(Exception):
    """The member may not run the count; the message says why."""


class SegmentStillEvaluating(Exception):
    """Constant Contact answered 202: ask again in EVALUATING_RETRY_SECONDS."""


def segment_count_start(*, segment: Segment, membership: Membership
                        ) -> tuple[SegmentCount, bool]:
    """Queue an exact count of `segment`, or return the one already under way.
    Raises CountNotAllowed for a member who can't read contacts or write segments
    (the calls list contacts, and spend the shared allowance as a report refresh does)."""
    if not membership.role.allows(Area.CONTACTS, Access.READ):
        raise CountNotAllowed(NEEDS_CONTACTS_READ)
    if not membership.role.allows(Area.SEGMENTS, Access.WRITE):
        raise CountNotAllowed(NEEDS_SEGMENTS_WRITE)
    with transaction.atomic():
        running = SegmentCount.objects.select_for_update().filter(
            segment=segment, status__in=(SegmentCount.Status.QUEUED,
                                         SegmentCount.Status.EVALUATING,
                                         SegmentCount.Status.COUNTING),
        ).first()
        if running is not None and not segment_count_is_stale(running):
            return running, False
        if running is not None:
            _finish(running, status=SegmentCount.Status.FAILED,
                    error="Interrupted: the worker counting this segment stopped.")
        count = SegmentCount.objects.create(
            workspace_id=segment.workspace_id, segment=segment, requested_by=membership.user,
            segment_edited_at=segment.updated_upstream,
        )
    transaction.on_commit(lambda: enqueue(TASK_NAME, args=(count.pk, membership.pk),
                                          queue="interactive"))
    return count, True


# A count still unfinished this long after it was asked for lost its worker (the
# task's own limits end a live one well before).
STALE_AFTER_SECONDS = 15 * 60


def segment_count_is_stale(count: SegmentCount) -> bool:
    return (timezone.now() - count.created_at).total_seconds() > STALE_AFTER_SECONDS


def _finish(count: SegmentCount, *, status: str, error: str = "", total: int | None = None
            ) -> SegmentCount:
    count.status = status
    count.error = error
    if total is not None:
        count.count = total
    count.finished_at = timezone.now()
    count.save(update_fields=["status", "error", "count", "finished_at", "pages", "api_calls",
                              "evaluating_answers"])
    return count


def segment_count_run(*, count_id: int, membership_id: int) -> SegmentCount:
    """Count the segment's contacts in Constant Contact, page by page. Raises
    SegmentStillEvaluating on a 202 (the task asks again later); records every
    other outcome on the row."""
    count = SegmentCount.objects.select_related("segment", "workspace").get(pk=count_id)
    if not count.is_active:
        return count  # a redelivered message for a finished count
    membership = Membership.objects.select_related("role", "user").filter(
        pk=membership_id, workspace_id=count.workspace_id).first()
    if membership is None:
        return _finish(count, status=SegmentCount.Status.FAILED,
                       error="The member who asked for this count has left the workspace.")
    cc = gate_for(workspace=count.workspace, actor=Actor.job(TASK_NAME, on_behalf_of=membership),
                  interactive=True)
    total = pages = 0
    try:
        for page in cc.pages("contacts.list",
                             params={"segment_id": count.segment.cc_id, "limit": PAGE_SIZE}):
            count.api_calls += page.attempts
            if page.status == 202:
                return _still_evaluating(count)
            pages += 1
            total += len((page.data or {}).get("contacts") or [])
            count.status, count.pages, count.count = SegmentCount.Status.COUNTING, pages, total
            count.save(update_fields=["status", "pages", "count", "api_calls"])
    except ConstantContactError as exc:
        count.api_calls += exc.attempts
        return _finish(count, status=SegmentCount.Status.FAILED,
                       error=upstream_error_message(exc))
    except SoftTimeLimitExceeded:
        return _finish(count, status=SegmentCount.Status.FAILED,
                       error=f"Stopped after counting {total:,} contacts: the count ran past "
                       "its time limit. Count again when the API is less busy.")
    count.pages = pages
    return _finish(count, status=SegmentCount.Status.DONE, total=total)


def _still_evaluating(count: SegmentCount) -> SegmentCount:
    count.evaluating_answers += 1
    if count.evaluating_answers >= MAX_EVALUATING_ANSWERS:
        return _finish(
            count, status=SegmentCount.Status.FAILED,
            error="Constant Contact was still evaluating this segment after about a minute. "
            "Big segments can take longer: count again in a few minutes.",
        )
    count.status = SegmentCount.Status.EVALUATING
    count.pages, count.count = 0, None  # the next attempt starts again from the first page
    count.save(update_fields=["status", "evaluating_answers", "pages", "count", "api_calls"])
    raise SegmentStillEvaluating()
