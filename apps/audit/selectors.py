"""Reading the audit log: which events a workspace may see, filtering and keyset pages.

A workspace's log holds its own events plus the workspace-less events of its
current members (sign-ins, password and two-factor changes) — and never an
event of another workspace.

Pages are keyset pages on (occurred_at, id), newest first: "older" and "newer"
links carry the edge row as a cursor, so a page costs the same on the millionth
row as on the first and no COUNT(*) ever runs over the table.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Q, QuerySet

from apps.accounts.models import Membership, Workspace
from apps.audit.models import SIGN_IN_ATTEMPT_ACTIONS, AuditEvent

PAGE_SIZE = 50
# The action list is a DISTINCT over the whole (scoped) log, the one query here
# that grows with the table; a minute's staleness in a dropdown is harmless.
ACTIONS_CACHE_SECONDS = 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """The position of one event in (occurred_at, id) order, as a URL-safe string."""

    occurred_at: datetime
    id: int

    @classmethod
    def of(cls, event: AuditEvent) -> "Cursor":
        return cls(occurred_at=event.occurred_at, id=event.id)

    def encode(self) -> str:
        # Whole microseconds since the epoch: exact (a float would round) and URL-safe.
        micros = (self.occurred_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.id}"

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """Raises ValueError on anything that is not a cursor we made."""
        micros, _, pk = value.partition("-")
        if not micros.isdigit() or not pk.isdigit() or len(micros) > 17 or len(pk) > 19:
            raise ValueError("not a cursor")
        return cls(occurred_at=_EPOCH + timedelta(microseconds=int(micros)), id=int(pk))


@dataclass(frozen=True)
class AuditFilters:
    member: object | None = None  # a User who is a member of the workspace
    actor: str = ""  # free text, matched against the actor's email
    action: str = ""  # an exact action, or a prefix ending in "." such as "login."
    outcome: str = ""
    date_from: date | None = None  # inclusive, UTC
    date_to: date | None = None  # inclusive, UTC


@dataclass
class AuditPage:
    events: list[AuditEvent] = field(default_factory=list)
    newer: Cursor | None = None  # set when there are newer events than this page
    older: Cursor | None = None  # set when there are older events than this page


def _member_ids(workspace: Workspace) -> QuerySet:
    return Membership.objects.filter(workspace=workspace).values("user_id")


def _member_emails(workspace: Workspace) -> QuerySet:
    return Membership.objects.filter(workspace=workspace).values("user__email")


def audit_event_scope(*, workspace: Workspace) -> QuerySet:
    """Every event the workspace's audit log may show, newest first."""
    about_members = Q(actor_id__in=_member_ids(workspace)) | Q(
        actor__isnull=True,
        action__in=SIGN_IN_ATTEMPT_ACTIONS,
        target__in=_member_emails(workspace),
    )
    return AuditEvent.objects.filter(
        Q(workspace=workspace) | (Q(workspace__isnull=True) & about_members)
    ).order_by("-occurred_at", "-id")


def _about_person(*, actor: Q, target: Q) -> Q:
    """Events by a person, plus sign-in attempts aimed at their account."""
    return actor | (Q(actor__isnull=True, action__in=SIGN_IN_ATTEMPT_ACTIONS) & target)


def audit_event_filter(*, workspace: Workspace, filters: AuditFilters) -> QuerySet:
    events = audit_event_scope(workspace=workspace)
    if filters.member is not None:
        events = events.filter(
            _about_person(actor=Q(actor=filters.member), target=Q(target=filters.member.email))
        )
    if filters.actor:
        text = filters.actor.strip()
        events = events.filter(
            _about_person(actor=Q(actor_label__icontains=text), target=Q(target__icontains=text))
        )
    if filters.action.endswith("."):
        events = events.filter(action__startswith=filters.action)
    elif filters.action:
        events = events.filter(action=filters.action)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.date_from:
        events = events.filter(occurred_at__gte=datetime.combine(filters.date_from, time.min, UTC))
    if filters.date_to:
        end = datetime.combine(filters.date_to, time.min, UTC) + timedelta(days=1)
        events = events.filter(occurred_at__lt=end)
    return events


def _older_than(cursor: Cursor) -> Q:
    return Q(occurred_at__lt=cursor.occurred_at) | Q(
        occurred_at=cursor.occurred_at, id__lt=cursor.id
    )


def _newer_than(cursor: Cursor) -> Q:
    return Q(occurred_at__gt=cursor.occurred_at) | Q(
        occurred_at=cursor.occurred_at, id__gt=cursor.id
    )


def audit_event_page(
    *,
    events: QuerySet,
    before: Cursor | None = None,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page of `events`: the newest ones, or those just older than `before`,
    or just newer than `after`."""
    events = events.select_related("workspace")
    if after is not None:
        # Walk upwards from the cursor, then show the page newest first as always.
        rows = list(events.filter(_newer_than(after)).order_by("occurred_at", "id")[: size + 1])
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        more_older = True  # the cursor's own row is older than this page
    else:
        if before is not None:
            events = events.filter(_older_than(before))
        rows = list(events.order_by("-occurred_at", "-id")[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = before is not None
    if not rows:
        return AuditPage()
    return AuditPage(
        events=rows,
        newer=Cursor.of(rows[0]) if more_newer else None,
        older=Cursor.of(rows[-1]) if more_older else None,
    )


def audit_event_actions(*, workspace: Workspace) -> list[str]:
    """The distinct actions in the workspace's log, for the filter's choices."""
    key = f"audit:actions:{workspace.pk}"
    actions = cache.get(key)
    if actions is None:
        actions = list(
            audit_event_scope(workspace=workspace)
            .order_by("action")
            .values_list("action", flat=True)
            .distinct()
        )
        cache.set(key, actions, ACTIONS_CACHE_SECONDS)
    return actions
