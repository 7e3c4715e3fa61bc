"""The overview: the team's daily home, put together card by card.

Each card is read only when the member's role lets them read its area, here on
the server: a card they may not see is never computed, so it cannot leak into
the page. None of it calls Constant Contact; the whole page is a fixed number
of queries (tests/dashboard/test_overview_queries.py holds it to that).
"""

from dataclasses import dataclass, field
from datetime import datetime

from apps.accounts.grants import Access, Area, Capability
from apps.accounts.models import Membership
from apps.constantcontact.selectors import BudgetSummary
from apps.core.timezones import zone_named
from apps.dashboard.selectors.audience import ContactCounts, contact_counts, list_count
from apps.dashboard.selectors.campaigns import (
    Reviews,
    Timeline,
    recent_sends,
    reviews_waiting_for,
    scheduled_timeline,
)
from apps.dashboard.selectors.health import (
    ConnectionState,
    FreshnessRow,
    connection_state,
    freshness_rows,
)
from apps.dashboard.selectors.work import (
    ActivityLine,
    RunningJobs,
    budget_today,
    recent_activity,
    running_jobs,
)
from apps.reporting.models import CampaignReport


@dataclass
class Overview:
    """What the page shows; None (or empty) for a card the role does not allow."""

    connection: ConnectionState | None = None
    freshness: list[FreshnessRow] = field(default_factory=list)
    contacts: ContactCounts | None = None
    lists: int | None = None
    reviews: Reviews | None = None
    timeline: Timeline | None = None
    sends: list[CampaignReport] | None = None
    jobs: RunningJobs | None = None
    budget: BudgetSummary | None = None
    budget_shown: bool = False  # the card is allowed (budget None: Redis didn't answer)
    activity: list[ActivityLine] | None = None
    activity_is_team: bool = False  # the team's activity, not only the member's own
    # What the member may do from the empty states (links are shown only if allowed).
    can: dict[str, bool] = field(default_factory=dict)

    @property
    def nothing_synced_yet(self) -> bool:
        """Not connected and never synced: one line says it, not one per scope."""
        return (self.connection is not None and not self.connection.working
                and bool(self.freshness)
                and all(r.freshness.never_synced and not r.freshness.active
                        for r in self.freshness))


def _readable(role) -> set[Area]:
    return {area for area in Area if role.allows(area, Access.READ)}


def overview_for(*, membership: Membership, zone_name: str, now: datetime) -> Overview:
    workspace, role, user = membership.workspace, membership.role, membership.user
    areas = _readable(role)
    can_write = {area: role.allows(area, Access.WRITE) for area in Area}
    overview = Overview(can={
        "manage_connection": can_write[Area.ACCOUNT],
        "read_audit": can_write[Area.ACCOUNT],
        "write_campaigns": can_write[Area.CAMPAIGNS],
        "import": can_write[Area.BULK] and can_write[Area.CONTACTS],
        "write_contacts": can_write[Area.CONTACTS],
        "write_lists": can_write[Area.LISTS],
    })
    if Area.ACCOUNT in areas:
        overview.connection = connection_state(workspace=workspace, now=now)
    overview.freshness = freshness_rows(workspace=workspace, areas=areas)
    if Area.CONTACTS in areas:
        overview.contacts = contact_counts(workspace=workspace)
    if Area.LISTS in areas:
        overview.lists = list_count(workspace=workspace)
    if Area.CAMPAIGNS in areas:
        if role.has_capability(Capability.APPROVE):
            overview.reviews = reviews_waiting_for(membership=membership)
        overview.timeline = scheduled_timeline(workspace=workspace, zone=zone_named(zone_name),
                                               now=now)
    if Area.REPORTS in areas:
        overview.sends = recent_sends(workspace=workspace)
    if Area.BULK in areas:
        overview.jobs = running_jobs(workspace=workspace)
    if Area.ACCOUNT in areas:
        overview.budget_shown = True
        overview.budget = budget_today(workspace=workspace, now=now)
    team = can_write[Area.ACCOUNT]  # the audit log's own grant
    overview.activity_is_team = team
    overview.activity = recent_activity(workspace=workspace, now=now,
                                        only_user=None if team else user)
    return overview

