"""Reads for the Constant Contact screens: the workspace's connection and its
token health, the endpoint catalog as the API reference shows it, and today's
shared API budget from the rate limiter's Redis counters.

Nothing here calls Constant Contact or writes anything: a GET of these pages
costs no quota and creates no rows.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
import logging

import redis

from apps.accounts.grants import Access, Area
from apps.accounts.models import Agent, Membership, Role, Workspace
from apps.constantcontact import conf
from apps.constantcontact.agent_caps import budget_member_key, daily_call_cap
from apps.constantcontact.catalog import ENDPOINTS, SCOPES, Endpoint
from apps.constantcontact.models import Connection
from apps.constantcontact.ratelimit import Usage, api_budget

logger = logging.getLogger(__name__)


# --- The connection ---------------------------------------------------------------

def connection_get(*, workspace: Workspace) -> Connection | None:
    """The workspace's connection, or None if nobody has ever connected it.
    (Unlike services.connection_for, reading never creates the row.)"""
    return Connection.objects.select_related("connected_by").filter(workspace=workspace).first()


@dataclass(frozen=True)
class ConnectionHealth:
    status: str
    status_label: str
    scopes: list[str]
    missing_scopes: list[str]
    access_expires_at: datetime | None
    access_expired: bool
    refresh_token_present: bool
    last_refreshed_at: datetime | None

    @property
    def connected(self) -> bool:
        return self.status == Connection.Status.CONNECTED

    @property
    def needs_reconnect(self) -> bool:
        return self.status == Connection.Status.NEEDS_RECONNECT


def connection_health(*, connection: Connection | None, now: datetime) -> ConnectionHealth:
    """What the connection page says about the grant and its tokens (never the tokens)."""
    if connection is None:
        return ConnectionHealth(
            status=Connection.Status.NOT_CONNECTED,
            status_label=Connection.Status.NOT_CONNECTED.label, scopes=[], missing_scopes=[],
            access_expires_at=None, access_expired=False, refresh_token_present=False,
            last_refreshed_at=None,
        )
    granted = sorted(connection.scopes)
    connected = connection.status == Connection.Status.CONNECTED
    # A scope we ask for but weren't granted makes some endpoints refuse (the gate
    # says "scope_missing"); only worth saying while connected.
    missing = [s for s in SCOPES if s not in connection.scopes] if connected else []
    expires = connection.access_expires_at
    return ConnectionHealth(
        status=connection.status,
        status_label=connection.get_status_display(),
        scopes=granted,
        missing_scopes=missing,
        access_expires_at=expires,
        access_expired=expires is not None and expires <= now,
        refresh_token_present=bool(connection.refresh_token_ciphertext),
        last_refreshed_at=connection.last_refreshed_at,
    )


# --- The API reference ----------------------------------------------------------------

METHODS = tuple(sorted({entry.method for entry in ENDPOINTS}))


@dataclass(frozen=True)
class EndpointRow:
    endpoint: Endpoint
    allowed: bool
    why_not: str  # empty when allowed


def endpoint_permission(*, role: Role, entry: Endpoint) -> tuple[bool, str]:
    """Whether the gate lets this role call the endpoint, and if not, why; the same
    two checks, in the same order, as `gate.ConstantContact._checked_membership`."""
    if not role.allows(entry.area, entry.access):
        have = role.access_for(entry.area)
        return False, (
            f"Needs {entry.access.label.lower()} on {entry.area.label.lower()}; "
            f"you have {have.label.lower()}."
        )
    if entry.capability is not None and not role.has_capability(entry.capability):
        return False, f"Needs the {entry.capability.value} capability."
    for area, access in entry.also:
        if not role.allows(area, access):
            return False, f"Also needs {access.label.lower()} on {area.label.lower()}."
    return True, ""


def catalog_endpoint_rows(
    *, role: Role, method: str = "", area: str = "", access: str = "", scope: str = "",
    search: str = "",
) -> list[EndpointRow]:
    """Catalog entries matching every given filter (blank means any), in catalog order.

    `search` matches anywhere in the path or the operation name, ignoring case;
    `access` is "read" or "write".
    """
    needle = search.strip().lower()
    rows = []
    for entry in ENDPOINTS:
        if method and entry.method != method:
            continue
        if area and entry.area != area:
            continue
        if access and entry.access != Access.parse(access):
            continue
        if scope and entry.scope != scope:
            continue
        if needle and needle not in entry.path.lower() and needle not in entry.name.lower():
            continue
        allowed, why_not = endpoint_permission(role=role, entry=entry)
        rows.append(EndpointRow(endpoint=entry, allowed=allowed, why_not=why_not))
    return rows


# --- The API budget -------------------------------------------------------------------

# What the limiter's event counters mean (ratelimit.ApiBudget.note), for people.
EVENT_LABELS = {
    "throttled": "Throttled by Constant Contact (429 throttled)",
    "quota_exceeded": "Daily quota exceeded (429 quota_exceeded)",
    "budget_refused": "Refused by our own daily budget (never sent)",
    "denied": "Refused by the gate: role or scope (never sent)",
    "unauthorized": "Access token refused (401)",
    "upstream_unavailable": "Constant Contact unavailable (5xx, timeouts)",
    "client_error": "Other errors (400, 404, 409, ...)",
}
THROTTLE_EVENTS = frozenset({"throttled"})
ERROR_EVENTS = frozenset(EVENT_LABELS) - THROTTLE_EVENTS - {"budget_refused", "denied"}
AGENT_KEY = "agent:"  # how agent_caps.budget_member_key files an agent's calls
INTERACTIVE_JOB = "interactive"  # what ratelimit.record_call files non-job calls under


@dataclass(frozen=True)
class Count:
    label: str
    count: int
    key: str = ""
    note: str = ""  # said beside the label, e.g. an agent's cap


@dataclass(frozen=True)
class BudgetSummary:
    usage: Usage
    now: datetime
    per_second: int
    window_ms: int
    token_per_second: int
    by_area: list[Count]
    by_member: list[Count]
    by_job: list[Count]
    events: list[Count]

    @property
    def quota(self) -> int:
        return self.usage.quota

    @property
    def total(self) -> int:
        return self.usage.total

    @property
    def reserve(self) -> int:
        return self.usage.reserve

    @property
    def background_limit(self) -> int:
        """Background work (sync, bulk jobs) stops here; the rest is the reserve."""
        return max(0, self.quota - self.reserve)

    @property
    def background_paused(self) -> bool:
        return self.total >= self.background_limit

    @property
    def remaining(self) -> int:
        return self.usage.remaining

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.total / self.quota)) if self.quota else 100

    @property
    def meter_low(self) -> int:
        # Green until three quarters of the background share, amber until the
        # reserve starts, red inside it (the <meter> element colours itself).
        return self.background_limit * 3 // 4

    @property
    def reset_at(self) -> datetime:
        """The daily counter starts again at the next 00:00 UTC (contract §2.5)."""
        return datetime.combine(self.usage.day + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def throttles(self) -> int:
        return sum(c.count for c in self.events if c.key in THROTTLE_EVENTS)

    @property
    def errors(self) -> int:
        return sum(c.count for c in self.events if c.key in ERROR_EVENTS)


def _by_count(counts: list[Count]) -> list[Count]:
    return sorted(counts, key=lambda c: (-c.count, c.label))


def _area_label(key: str) -> str:
    try:
        return Area(key).label
    except ValueError:
        return key


def _agent_counts(*, workspace: Workspace, raw: dict[str, int], quota: int) -> tuple[list[Count], int]:
    """This workspace's agents, each its own line with its cap beside it, and the
    calls of agents it can't name (another workspace's, or deleted)."""
    ids = {int(key.removeprefix(AGENT_KEY)) for key in raw
           if key.startswith(AGENT_KEY) and key.removeprefix(AGENT_KEY).isdigit()}
    agents = {
        budget_member_key(agent): agent for agent in Agent.objects.filter(
            workspace=workspace, pk__in=ids
        ).select_related("owner__user")
    }
    counts, others = [], 0
    for key, count in raw.items():
        agent = agents.get(key)
        if agent is None:
            others += count
            continue
        counts.append(Count(
            label=f"Agent {agent.name} · owner {agent.owner.user.email}", count=count, key=key,
            note=f"Cap {daily_call_cap(agent, quota):,} calls a day "
            f"({agent.daily_quota_percent}% of the quota)",
        ))
    return counts, others


def _member_counts(*, workspace: Workspace, raw: dict[str, int], quota: int = 0) -> list[Count]:
    """Calls per member of this workspace, and per agent (counted as `agent:<pk>`,
    apart from its owner). The budget is shared by every workspace (one
    application key), but this page names only this workspace's members and
    agents; everyone else's calls are one line, so no other workspace's people show."""
    by_agent = {key: count for key, count in raw.items() if key.startswith(AGENT_KEY)}
    raw = {key: count for key, count in raw.items() if key not in by_agent}
    ids = {int(k) for k in raw if k.isdigit()}
    members = {
        m.user_id: m.user for m in Membership.objects.filter(
            workspace=workspace, user_id__in=ids
        ).select_related("user")
    }
    counts, others = [], 0
    for key, count in raw.items():
        user = members.get(int(key)) if key.isdigit() else None
        if user is None:
            others += count
        else:
            counts.append(Count(label=user.display_name, count=count, key=key))
    agent_counts, other_agents = _agent_counts(workspace=workspace, raw=by_agent, quota=quota)
    counts = _by_count(counts + agent_counts)
    if others:
        counts.append(Count(label="Members of other workspaces", count=others, key=""))
    if other_agents:
        counts.append(Count(label="Agents of other workspaces, or deleted", count=other_agents,
                            key=""))
    return counts


# Background jobs in words. The gate counts a job under the name it acts as
# (`<area>.<task>`, a bulk job with `#<id>`); names not listed here are spelt out.
_JOB_WORDS = {
    "contacts.sync": "Contacts sync",
    "campaigns.sync": "Campaigns sync",
    "segments.sync": "Segments sync",
    "segments.count": "Segment counts",
    "reports.sync": "Reporting refresh",
    "campaigns.schedule": "Scheduling campaigns",
    "campaigns.unschedule": "Unscheduling campaigns",
    "campaigns.test_send": "Test sends",
    "bulk.import": "Bulk import",
    "bulk.export": "Bulk export",
    "bulk.add_to_lists": "Bulk: add to lists",
    "bulk.remove_from_lists": "Bulk: remove from lists",
    "bulk.add_tags": "Bulk: add tags",
    "bulk.remove_tags": "Bulk: remove tags",
    "bulk.delete": "Bulk delete",
}


def _job_label(key: str) -> str:
    if key == INTERACTIVE_JOB:
        return "Members on screens (interactive)"
    name, _, number = key.partition("#")
    words = _JOB_WORDS.get(name)
    if words is None:
        area, _, task = name.partition(".")
        words = " ".join(part for part in (area.capitalize(), task.replace("_", " ")) if part)
    return f"{words} (job {number})" if number else words


def api_budget_summary(*, workspace: Workspace, now: datetime) -> BudgetSummary | None:
    """Today's (UTC) shared call budget, or None when Redis can't be read."""
    try:
        usage = api_budget().usage()
    except redis.RedisError:
        logger.exception("could not read the Constant Contact budget counters")
        return None
    return BudgetSummary(
        usage=usage,
        now=now,
        per_second=conf.rate_per_second(),
        window_ms=conf.rate_window_ms(),
        token_per_second=conf.token_rate_per_second(),
        by_area=_by_count([Count(_area_label(k), v, k) for k, v in usage.by_area.items()]),
        by_member=_member_counts(workspace=workspace, raw=usage.by_member, quota=usage.quota),
        by_job=_by_count([Count(_job_label(k), v, k) for k, v in usage.by_job.items()]),
        events=_by_count(
            [Count(EVENT_LABELS.get(k, k), v, k) for k, v in usage.events.items() if v]
        ),
    )

