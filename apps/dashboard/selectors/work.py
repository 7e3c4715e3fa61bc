"""Work in progress and behind us: running bulk jobs, today's API budget, and
recent activity in words (the audit log's own wording)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from apps.accounts.models import User, Workspace
from apps.audit.models import AuditEvent
from apps.audit.wording import action_words, target_names
from apps.bulk.models import BulkJob
from apps.constantcontact.selectors import BudgetSummary, api_budget_summary

JOBS_SHOWN = 5
ACTIVITY_SHOWN = 8
# How far back "recent" reaches. It also bounds the walk down the (workspace,
# occurred_at) index past the calls a big sync records.
ACTIVITY_DAYS = 30
# Calls to Constant Contact the activity card shows: the ones with a live effect
# whose product event says only that they were asked for. Every other call (reads,
# sync pages, import chunks) is the audit log's detail, not the team's news.
CALLS_SHOWN = ("cc.emails.schedule", "cc.emails.unschedule", "cc.emails.test_send")


@dataclass(frozen=True)
class RunningJobs:
    jobs: list[BulkJob]
    total: int


def running_jobs(*, workspace: Workspace) -> RunningJobs:
    """Queued and running bulk jobs, oldest first (the one that started first is
    the one the queue works on)."""
    active = BulkJob.objects.filter(workspace=workspace, state__in=BulkJob.ACTIVE)
    jobs = list(active.select_related("created_by")
                .defer("selection", "parameters", "counts")
                .order_by("created_at", "id")[:JOBS_SHOWN])
    return RunningJobs(jobs=jobs, total=active.count())


def budget_today(*, workspace: Workspace, now: datetime) -> BudgetSummary | None:
    """Today's shared call budget from the limiter's Redis counters (no call to
    Constant Contact); None when Redis can't be read."""
    return api_budget_summary(workspace=workspace, now=now)


@dataclass(frozen=True)
class ActivityLine:
    event: AuditEvent
    text: str  # 'Scheduled campaign “Spring sale”'

    @property
    def who(self) -> str:
        actor = self.event.actor
        return actor.display_name if actor is not None else (self.event.actor_label or "ccadmin")


_METHODS = ("GET ", "POST ", "PUT ", "PATCH ", "DELETE ")


def activity_text(action: str, target: str) -> str:
    """The action and its target as one phrase: "Scheduled campaign" and
    'campaign “Spring sale”' read 'Scheduled campaign “Spring sale”'. A raw call
    path nobody could name is left to the audit log's details."""
    if not target or target.startswith(_METHODS):
        return action
    noun, _, rest = target.partition(" ")
    if rest and action.lower().endswith(" " + noun.lower()):
        return f"{action} {rest}"
    return f"{action}: {target}"


def recent_activity(*, workspace: Workspace, now: datetime,
                    only_user: User | None = None) -> list[ActivityLine]:
    """The workspace's latest product events in words; only `only_user`'s own
    when given (the whole team's belongs to those who may read the audit log)."""
    events = AuditEvent.objects.filter(
        workspace=workspace, occurred_at__gte=now - timedelta(days=ACTIVITY_DAYS),
    ).filter(
        ~Q(action__startswith="cc.") | Q(action__startswith="cc.connection.")
        | Q(action__in=CALLS_SHOWN)
    ).select_related("actor")
    if only_user is not None:
        events = events.filter(actor=only_user)
    rows = list(events.order_by("-occurred_at", "-id")[:ACTIVITY_SHOWN])
    names = target_names(workspace_id=workspace.pk, targets=(e.target for e in rows))
    return [ActivityLine(event=e, text=activity_text(action_words(e.action),
                                                     names.get(e.target, e.target)))
            for e in rows]
