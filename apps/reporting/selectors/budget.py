"""Reporting's part of the daily Constant Contact budget.

The application key has one daily quota shared by every workspace and every
kind of work (contract §2.5). Reports can wait; contacts, campaigns and a
member's own actions should not. So reporting — scheduled refreshes and
"Refresh now" together — spends at most CCADMIN_REPORTS_QUOTA_PERCENT of the
quota a day, counted from the budget's per-area counter (every call the gate
makes for a reporting endpoint), and does nothing at all while the day's
remaining calls are down to the interactive reserve plus a margin
(CC_INTERACTIVE_RESERVE + CCADMIN_REPORTS_RESERVE_MARGIN): the reserve is for
members, and reporting stops well before background work would touch it.
"""

from dataclasses import dataclass
import logging

from django.conf import settings
from redis.exceptions import RedisError

from apps.accounts.grants import Area
from apps.constantcontact.ratelimit import api_budget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportingBudget:
    quota: int  # the application key's calls a day
    used_today: int  # by everything, today (UTC)
    reporting_used: int  # by reporting endpoints, today
    share: int  # reporting's most a day
    floor: int  # reporting stops when this few calls are left today

    @property
    def share_left(self) -> int:
        return max(0, self.share - self.reporting_used)

    @property
    def remaining_today(self) -> int:
        return max(0, self.quota - self.used_today)

    @property
    def reserve_threatened(self) -> bool:
        return self.remaining_today <= self.floor

    def allows(self, calls: int, *, spent: int = 0) -> bool:
        """Whether `calls` more fit, after `spent` made since this was read."""
        if self.remaining_today - spent <= self.floor:
            return False
        return calls <= self.share_left - spent

    def refusal(self, calls: int = 1, *, spent: int = 0) -> str:
        """Why `calls` more don't fit, worded for a member; empty when they do."""
        if self.remaining_today - spent <= self.floor:
            return ("Reports are not refreshed now: the account's Constant Contact calls for "
                    "today are nearly used up, and what is left is kept for members' own "
                    "work. Refreshes resume after 00:00 UTC.")
        if calls > self.share_left - spent:
            return (f"Reporting has used its share of today's Constant Contact calls "
                    f"({self.share:,} of {self.quota:,}). Refreshes resume after 00:00 UTC.")
        return ""


def reporting_budget() -> ReportingBudget | None:
    """Today's figures, or None when Redis (which keeps the shared count) is down:
    then no process could know what the others spend, and nothing is sent anyway."""
    budget = api_budget()
    try:
        usage = budget.usage()
    except RedisError as exc:
        logger.warning("reporting budget: Redis did not answer: %r", exc)
        return None
    return ReportingBudget(
        quota=usage.quota,
        used_today=usage.total,
        reporting_used=usage.by_area.get(Area.REPORTS.value, 0),
        share=usage.quota * settings.CCADMIN_REPORTS_QUOTA_PERCENT // 100,
        floor=usage.reserve + settings.CCADMIN_REPORTS_RESERVE_MARGIN,
    )
