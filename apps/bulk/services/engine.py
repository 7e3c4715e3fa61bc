"""The machinery every bulk job runs on: chunks, each one Constant Contact
activity, submitted, polled and settled.

    drive(run, step="import", build=import_files, on_final=merge_import_chunk)

`drive` works through a step's chunks until none is left to send or to wait for:

- **Submitting.** A chunk is stamped `submitting` (committed) before its POST
  and `submitted`, with its activity id, after it; at most
  CCADMIN_BULK_MAX_IN_FLIGHT of a job's activities are with Constant Contact at
  once (an account may have 1,000 queued, contract §2.5), and a 429 that says
  the queue is full puts the chunk back and waits before trying again.
- **Nothing twice.** A chunk found `submitting` — its answer was lost (a
  timeout, a 5xx after it arrived), or the worker that sent it was killed — is
  looked for before anything is sent again. An import is found by its file's
  name among Constant Contact's activities (GET /activities lists the past ten
  days with `source_file_name`); only once the submission is older than any
  request could take (CCADMIN_BULK_RECONCILE_SECONDS) does "not found" mean it
  never arrived, and it is sent again. List, tag, delete and export activities
  carry no name to find them by; they are safe to repeat (a contact added to a
  list twice is on it once), so they are sent again at once.
- **Polling with backoff.** In-flight activities are read together from the
  activity list (one call for all of them; a single one is read by id), about
  a second after submission at first and less often as they age, up to every
  CCADMIN_BULK_POLL_MAX_SECONDS for long jobs. A finished activity is handed to
  the step's `fetch` first, outside any transaction (an export's file is
  downloaded there: an HTTP call must not hold the database's write lock), then
  to `on_final`, which merges its result into the job's rows in the same
  transaction that marks the chunk done.
- **Waiting and giving up.** Throttling and a busy limiter only delay the next
  submission. A spent daily budget stops the job until 00:00 UTC (JobMustWait),
  an unreadable Constant Contact for too long or a refusal fails it (JobFailed)
  with a message for its page; either way every chunk keeps its state, so the
  job resumes where it stopped.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Membership
from apps.bulk.models import BulkChunk, BulkJob
from apps.constantcontact.client import Result
from apps.constantcontact.errors import (
    ActivityQueueFull,
    BudgetExhausted,
    ConstantContactError,
    GrantDenied,
    LimiterUnavailable,
    NotConnected,
    NotFound,
    QuotaExceeded,
    Throttled,
    UpstreamUnavailable,
)
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import ConstantContact
from apps.constantcontact.times import parse_time
from apps.core.leases import Lease, LeaseLost

logger = logging.getLogger(__name__)

# Activity states after which nothing more happens (contract §3.6).
FINAL_STATES = ("completed", "cancelled", "failed", "timed_out")
# A full page of the activity list: one poll covers every in-flight activity.
ACTIVITY_PAGE = 500
# Polls that fail in a row (each after the client's own retries) before the job
# gives up and says so; with the backoff that is a few minutes of outage.
MAX_FAILED_POLLS = 8
# After a 429 "too many queued activities", wait this long before sending more.
QUEUE_FULL_WAIT_SECONDS = 30
# The first poll of an activity: Constant Contact starts most within a second.
FIRST_POLL_SECONDS = 1.0
# Still throttled after the client's retries: let the shared cool-off pass first.
THROTTLED_WAIT_SECONDS = 2


class JobFailed(Exception):
    """A permanent stop, with the message for the job's page."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class JobMustWait(Exception):
    """Nothing can be done before `until` (the day's budget is spent); the job is
    queued again for then."""

    def __init__(self, until: datetime, note: str):
        self.until = until
        self.note = note
        super().__init__(note)


class OutOfTime(Exception):
    """The attempt ran for its allotted time; the job is queued again to carry on."""


def pause(seconds: float) -> None:
    """Wait between polls (its own function so tests can move a simulated clock instead)."""
    time.sleep(seconds)


def next_budget_reset(now: datetime | None = None) -> datetime:
    """The next 00:00 UTC, when Constant Contact's daily quota starts again (contract §2.5)."""
    now = (now or timezone.now()).astimezone(UTC)
    return datetime.combine(now.date() + timedelta(days=1), dtime.min, tzinfo=UTC)


@dataclass
class Run:
    """One attempt at a job: the row, the gate acting for its member, the lease."""

    job: BulkJob
    cc: ConstantContact
    lease: Lease
    membership: Membership
    deadline: float  # time.monotonic() past which the attempt hands over
    failed_polls: int = 0
    queue_full_until: float = 0.0
    _listing: dict[str, dict] | None = field(default=None, repr=False)

    # --- calls --------------------------------------------------------------------
    def call(self, name: str, **kwargs: Any) -> Result:
        """A gated call, counted on the job (retries included)."""
        try:
            result = self.cc.call(name, **kwargs)
        except ConstantContactError as exc:
            self.count(exc.attempts)
            raise
        self.count(result.attempts)
        return result

    def count(self, attempts: int) -> None:
        if attempts:
            BulkJob.objects.filter(pk=self.job.pk).update(api_calls=F("api_calls") + attempts)
            self.job.api_calls += attempts

    # --- the row ------------------------------------------------------------------
    def save(self, *fields: str) -> None:
        self.job.save(update_fields=list(fields))

    def set_phase(self, phase: str, note: str = "") -> None:
        self.job.phase = phase
        self.job.note = note
        self.save("phase", "note")

    def cancel_requested(self) -> bool:
        return BulkJob.objects.filter(pk=self.job.pk, cancel_requested_at__isnull=False).exists()

    def ensure_lease(self) -> None:
        """Right before a write to Constant Contact: this attempt must still hold the
        job, or another worker may be running it now."""
        if not self.lease.held():
            raise LeaseLost()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise OutOfTime()

    def step_done(self, name: str) -> bool:
        return name in (self.job.steps_done or [])

    def mark_done(self, name: str) -> None:
        self.job.steps_done = [*(self.job.steps_done or []), name]
        self.save("steps_done")

    def once(self, name: str, work: Callable[[], None]) -> None:
        """Run `work` unless an earlier attempt finished it (each step is idempotent,
        so one interrupted halfway is simply done again)."""
        if not self.step_done(name):
            work()
            self.mark_done(name)


# --- submitting ---------------------------------------------------------------------

def json_body(run: Run, chunk: BulkChunk) -> dict[str, Any]:
    return {"json": chunk.body}


def _refused_before_sending(exc: ConstantContactError) -> bool:
    """True when the request was never processed upstream: safe to send again. (A
    429 is a refusal, and the others never left this machine.)"""
    return isinstance(exc, (Throttled, QuotaExceeded, LimiterUnavailable, GrantDenied,
                            NotConnected))


def _stop_for(exc: ConstantContactError) -> Exception:
    """What a call failure means for the job as a whole."""
    if isinstance(exc, (BudgetExhausted, QuotaExceeded)):
        return JobMustWait(next_budget_reset(), upstream_error_message(exc)
                           + " The job continues then by itself.")
    if isinstance(exc, LimiterUnavailable):
        return JobMustWait(timezone.now() + timedelta(minutes=1), upstream_error_message(exc))
    return JobFailed(upstream_error_message(exc))


def _record_activity(chunk: BulkChunk, activity: dict) -> None:
    chunk.activity_id = str(activity.get("activity_id") or chunk.activity_id)
    chunk.activity_state = str(activity.get("state") or "")
    try:
        chunk.percent_done = max(0, min(100, int(activity.get("percent_done") or 0)))
    except (TypeError, ValueError):
        chunk.percent_done = 0
    chunk.activity = {key: activity.get(key) for key in
                      ("state", "status", "activity_errors", "created_at", "completed_at",
                       "source_file_name", "_links") if key in activity}


def _submit(run: Run, chunk: BulkChunk, build) -> None:
    run.ensure_lease()
    # Committed before the POST: a worker killed from here on leaves the chunk
    # `submitting`, and the next attempt looks for its activity before sending.
    stamped = BulkChunk.objects.filter(pk=chunk.pk, state=BulkChunk.State.PENDING).update(
        state=BulkChunk.State.SUBMITTING, submitted_at=timezone.now())
    if not stamped:
        return
    chunk.refresh_from_db()
    try:
        result = run.call(chunk.endpoint, **build(run, chunk))
    except ActivityQueueFull:
        _unstamp(chunk, "Constant Contact's queue of bulk activities was full; sent again "
                        "once it had room.")
        run.queue_full_until = time.monotonic() + QUEUE_FULL_WAIT_SECONDS
        run.set_phase(run.job.phase, "Waiting: Constant Contact already has 1,000 bulk "
                                     "activities queued for this account.")
        return
    except ConstantContactError as exc:
        if _refused_before_sending(exc):
            _unstamp(chunk, "")
            if isinstance(exc, Throttled):
                # Still throttled after the client's own retries: a short pause.
                run.queue_full_until = time.monotonic() + THROTTLED_WAIT_SECONDS
                return
            raise _stop_for(exc)
        if exc.transient or isinstance(exc, UpstreamUnavailable):
            # Sent, but the answer was lost: it may have arrived. Left `submitting`
            # for the next round to look for before anything is sent again.
            chunk.error = ("Constant Contact did not answer this submission; checking "
                           "whether it arrived.")
            chunk.save(update_fields=["error"])
            return
        chunk.state = BulkChunk.State.FAILED
        chunk.error = upstream_error_message(exc)
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["state", "error", "finished_at"])
        raise JobFailed(chunk.error)
    activity = result.data if isinstance(result.data, dict) else {}
    _record_activity(chunk, activity)
    chunk.state = BulkChunk.State.SUBMITTED
    chunk.error = ""
    chunk.save(update_fields=["state", "activity_id", "activity_state", "percent_done",
                              "activity", "error"])


def _unstamp(chunk: BulkChunk, error: str) -> None:
    BulkChunk.objects.filter(pk=chunk.pk).update(state=BulkChunk.State.PENDING,
                                                 submitted_at=None, error=error)


# --- finding what became of a submission ------------------------------------------

def _listing(run: Run, *, since: datetime | None = None) -> dict[str, dict]:
    """Constant Contact's recent activities by id (read once per round), going back
    to `since` when given (the list covers ten days, newest first)."""
    if run._listing is not None:
        return run._listing
    found: dict[str, dict] = {}
    for page in run.cc.pages("activities.list", params={"limit": ACTIVITY_PAGE}):
        run.count(page.attempts)
        items = [a for a in (page.data or {}).get("activities") or [] if isinstance(a, dict)]
        for activity in items:
            found[str(activity.get("activity_id"))] = activity
        created = [parse_time(a.get("created_at")) for a in items]
        oldest = min((c for c in created if c is not None), default=None)
        if since is None or oldest is None or oldest < since:
            break
    run._listing = found
    return found


def _settle_unanswered(run: Run, chunks: list[BulkChunk], *, findable: bool) -> None:
    """Chunks left `submitting`: recorded when their activity is found, sent again
    once it provably never arrived."""
    now = timezone.now()
    grace = timedelta(seconds=settings.CCADMIN_BULK_RECONCILE_SECONDS)
    if not findable:
        for chunk in chunks:
            _unstamp(chunk, "Sent again: the first submission got no answer.")
        return
    earliest = min(c.submitted_at or now for c in chunks) - timedelta(hours=1)
    by_name = {}
    for activity in _listing(run, since=earliest).values():
        name = activity.get("source_file_name")
        if name:
            by_name[str(name)] = activity
    for chunk in chunks:
        activity = by_name.get(chunk.source_file_name)
        if activity is not None:
            _record_activity(chunk, activity)
            chunk.state = BulkChunk.State.SUBMITTED
            chunk.error = ""
            chunk.save(update_fields=["state", "activity_id", "activity_state",
                                      "percent_done", "activity", "error"])
            logger.info("bulk job %s: %s chunk %s found upstream as %s", run.job.pk,
                        chunk.step, chunk.index, chunk.activity_id)
        elif chunk.submitted_at is None or now - chunk.submitted_at >= grace:
            _unstamp(chunk, "Sent again: the first submission never reached Constant Contact.")
            logger.warning("bulk job %s: %s chunk %s never arrived; sending it again",
                           run.job.pk, chunk.step, chunk.index)


# --- polling ------------------------------------------------------------------------

def _poll(run: Run, chunks: list[BulkChunk], on_final, fetch=None) -> bool:
    """Read the in-flight activities; hand the finished ones to `fetch` (outside
    the transaction) and `on_final` (inside it). Returns whether any finished."""
    try:
        if len(chunks) > 1:
            listing = _listing(run)
        else:
            listing = {}
        finished = False
        for chunk in chunks:
            activity = listing.get(chunk.activity_id)
            if activity is None:
                try:
                    activity = run.call("activities.get", activity_id=chunk.activity_id).data
                except NotFound:
                    activity = {"state": "failed", "activity_errors": [
                        "Constant Contact no longer knows this activity."]}
            if not isinstance(activity, dict):
                continue
            _record_activity(chunk, activity)
            if chunk.activity_state in FINAL_STATES:
                if fetch is not None:
                    fetch(run, chunk, activity)
                with transaction.atomic():
                    on_final(run, chunk, activity)
                    chunk.state = (BulkChunk.State.COMPLETED
                                   if chunk.activity_state == "completed"
                                   else BulkChunk.State.FAILED)
                    if chunk.state == BulkChunk.State.FAILED and not chunk.error:
                        chunk.error = (f"Constant Contact's activity ended "
                                       f"{chunk.activity_state.replace('_', ' ')}.")
                    chunk.finished_at = timezone.now()
                    chunk.save()
                finished = True
            else:
                chunk.save(update_fields=["activity_state", "percent_done", "activity"])
    except ConstantContactError as exc:
        if not (exc.transient or isinstance(exc, UpstreamUnavailable)):
            raise _stop_for(exc)
        run.failed_polls += 1
        if run.failed_polls >= MAX_FAILED_POLLS:
            raise JobFailed("Constant Contact kept failing while this job waited for its "
                            f"activities ({upstream_error_message(exc)}). Nothing was lost: "
                            "resume the job to carry on where it stopped.")
        return False
    run.failed_polls = 0
    return finished


def poll_interval(oldest_submitted: datetime | None) -> float:
    """Soon for a fresh activity, less often as it ages: a quarter of its age,
    from a second up to CCADMIN_BULK_POLL_MAX_SECONDS (about 30 s for long jobs)."""
    if oldest_submitted is None:
        return FIRST_POLL_SECONDS
    age = (timezone.now() - oldest_submitted).total_seconds()
    return max(FIRST_POLL_SECONDS, min(settings.CCADMIN_BULK_POLL_MAX_SECONDS, age / 4))


def _progress(run: Run, step: str, *, total: int) -> None:
    done = 0.0
    for state, count, percent in BulkChunk.objects.filter(job=run.job, step=step).values_list(
            "state", "item_count", "percent_done"):
        if state in (BulkChunk.State.COMPLETED, BulkChunk.State.FAILED,
                     BulkChunk.State.CANCELLED):
            done += count
        elif state == BulkChunk.State.SUBMITTED:
            done += count * percent / 100
    run.job.total_items = total
    run.job.processed_items = min(total, int(done))
    run.save("total_items", "processed_items")


# --- the loop -----------------------------------------------------------------------

def drive(run: Run, *, step: str, on_final, build=json_body, findable: bool = False,
          total: int | None = None, fetch=None) -> bool:
    """Work through `step`'s chunks until each is completed, failed or cancelled.
    `fetch(run, chunk, activity)`, when given, gets a finished activity's result
    (a download) before the transaction that runs `on_final`.
    Returns False when a cancel stopped it before every chunk was sent."""
    window = max(1, settings.CCADMIN_BULK_MAX_IN_FLIGHT)
    chunks_total = total if total is not None else sum(
        BulkChunk.objects.filter(job=run.job, step=step).values_list("item_count", flat=True))
    next_poll = 0.0
    cancelled = False
    while True:
        run.check_time()
        run._listing = None  # one read of the activity list per round at most
        open_chunks = list(BulkChunk.objects.filter(
            job=run.job, step=step,
            state__in=(BulkChunk.State.PENDING, *BulkChunk.IN_FLIGHT),
        ).order_by("index"))
        submitting = [c for c in open_chunks if c.state == BulkChunk.State.SUBMITTING]
        in_flight = [c for c in open_chunks if c.state == BulkChunk.State.SUBMITTED]
        pending = [c for c in open_chunks if c.state == BulkChunk.State.PENDING]
        if not open_chunks:
            _progress(run, step, total=chunks_total)
            return not cancelled
        now = time.monotonic()
        if submitting:
            _settle_unanswered(run, submitting, findable=findable)
            if any(c.state == BulkChunk.State.SUBMITTED for c in submitting):
                next_poll = 0.0
        if in_flight and now >= next_poll:
            if _poll(run, in_flight, on_final, fetch):
                _progress(run, step, total=chunks_total)
            oldest = min((c.submitted_at for c in in_flight if c.submitted_at), default=None)
            next_poll = time.monotonic() + poll_interval(oldest)
        if pending and run.cancel_requested():
            BulkChunk.objects.filter(pk__in=[c.pk for c in pending]).update(
                state=BulkChunk.State.CANCELLED)
            cancelled = True
            continue
        busy = len(in_flight) + len(submitting)
        if pending and busy < window and time.monotonic() >= run.queue_full_until:
            if run.job.note:
                run.set_phase(run.job.phase)
            _submit(run, pending[0], build)
            if next_poll == 0.0 or not in_flight:
                next_poll = time.monotonic() + FIRST_POLL_SECONDS
            continue
        wake = [next_poll]
        if pending and run.queue_full_until > time.monotonic():
            wake.append(run.queue_full_until)
        if submitting:
            wake.append(time.monotonic() + FIRST_POLL_SECONDS)
        delay = max(0.05, min(wake) - time.monotonic())
        pause(min(delay, settings.CCADMIN_BULK_POLL_MAX_SECONDS))
