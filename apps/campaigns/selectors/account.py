"""Reads for the account screens: the Constant Contact account summary (with its
physical address) and its sender addresses, read through the gate as the member.

The account isn't mirrored in the database (it is one small document that
changes rarely), but every page view must not cost API quota either: the two
reads are kept in the Django cache per workspace for `CACHE_SECONDS` and the
page says how old they are. "Refresh" reads again on purpose. A write
(`apps.campaigns.services.account`) forgets the cached copy, so the next view
shows what Constant Contact now holds.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.accounts.models import Membership, Workspace
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.core.weburls import web_url

# Five minutes: long enough that browsing the account page and back costs
# nothing, short enough that a change made in Constant Contact's own UI (a
# sender address confirmed there) shows up soon without anyone pressing Refresh.
CACHE_SECONDS = 5 * 60
# Bump when the cached shape changes, so an old entry is never read as a new one.
_CACHE_VERSION = 1

SUMMARY_PARAMS = {"extra_fields": "physical_address,company_logo"}

CONFIRMED = "CONFIRMED"
ROLE_LABELS = {
    "CONTACT": "Contact",
    "BILLING": "Billing",
    "JOURNALING": "Journaling",
    "REPLY_TO": "Reply-to",
    "OTHER": "Other",
}


def _cache_key(workspace: Workspace) -> str:
    return f"campaigns:account:{workspace.pk}"


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


@dataclass(frozen=True)
class SenderAddress:
    email_address: str
    confirmed: bool
    roles: list[str]
    pending_roles: list[str]
    confirm_time: datetime | None

    @classmethod
    def from_upstream(cls, data: dict) -> "SenderAddress":
        confirm_time = data.get("confirm_time")
        return cls(
            email_address=str(data.get("email_address", "")),
            confirmed=data.get("confirm_status") == CONFIRMED,
            roles=[ROLE_LABELS.get(r, str(r).title()) for r in data.get("roles") or []],
            pending_roles=[ROLE_LABELS.get(r, str(r).title())
                           for r in data.get("pending_roles") or []],
            confirm_time=parse_datetime(confirm_time) if isinstance(confirm_time, str) else None,
        )


@dataclass(frozen=True)
class AccountSnapshot:
    """What Constant Contact said about the account at `fetched_at`."""

    summary: dict
    emails: list[dict]
    fetched_at: datetime

    @property
    def address(self) -> dict:
        return self.summary.get("physical_address") or {}

    @property
    def address_lines(self) -> list[str]:
        """The physical address as it would be printed, one line per entry."""
        a = self.address
        region = a.get("state_code") or a.get("state_name") or ""
        locality = " ".join(part for part in (a.get("city"), region, a.get("postal_code")) if part)
        lines = [a.get("address_line1"), a.get("address_line2"), a.get("address_line3"),
                 locality, a.get("country_code")]
        return [str(line) for line in lines if line]

    @property
    def website_url(self) -> str:
        return web_url(self.summary.get("website"))

    @property
    def logo_url(self) -> str:
        logo = self.summary.get("company_logo") or {}
        return web_url(logo.get("url") or logo.get("external_url"))

    @property
    def owner_name(self) -> str:
        names = (self.summary.get("first_name"), self.summary.get("last_name"))
        return " ".join(str(n) for n in names if n)

    @property
    def senders(self) -> list[SenderAddress]:
        """Confirmed addresses first (they are the ones campaigns can use), then by address."""
        rows = [SenderAddress.from_upstream(e) for e in self.emails if isinstance(e, dict)]
        return sorted(rows, key=lambda s: (not s.confirmed, s.email_address.lower()))

    @property
    def confirmed_count(self) -> int:
        return sum(1 for s in self.senders if s.confirmed)


def account_snapshot_cached(*, workspace: Workspace) -> AccountSnapshot | None:
    """The cached copy, or None when there is none (or it expired)."""
    entry = cache.get(_cache_key(workspace), version=_CACHE_VERSION)
    if not entry:
        return None
    return AccountSnapshot(summary=entry["summary"], emails=entry["emails"],
                           fetched_at=entry["fetched_at"])


def account_snapshot_fetch(*, workspace: Workspace, membership: Membership) -> AccountSnapshot:
    """Read the summary and the sender addresses from Constant Contact now and
    cache them. Raises ConstantContactError; the cached copy is then left as it
    was (a failed refresh never replaces good data with nothing)."""
    cc = _gate(workspace, membership)
    summary = cc.call("account.summary_get", params=SUMMARY_PARAMS).data
    # A bare JSON array, not an object (contract §3.8).
    emails = cc.call("account.emails_list").data
    snapshot = AccountSnapshot(
        summary=summary if isinstance(summary, dict) else {},
        emails=emails if isinstance(emails, list) else [],
        fetched_at=timezone.now(),
    )
    cache.set(
        _cache_key(workspace),
        {"summary": snapshot.summary, "emails": snapshot.emails,
         "fetched_at": snapshot.fetched_at},
        timeout=CACHE_SECONDS, version=_CACHE_VERSION,
    )
    return snapshot


def account_snapshot(*, workspace: Workspace, membership: Membership) -> AccountSnapshot:
    """The cached copy if there is one, else a fresh read (see `account_snapshot_fetch`)."""
    return (account_snapshot_cached(workspace=workspace)
            or account_snapshot_fetch(workspace=workspace, membership=membership))


def account_snapshot_forget(*, workspace: Workspace) -> None:
    cache.delete(_cache_key(workspace), version=_CACHE_VERSION)


def account_summary_fetch(*, workspace: Workspace, membership: Membership) -> dict:
    """The summary with its physical address, read now: the edit form starts from
    what Constant Contact holds, never from a cached copy up to minutes old."""
    data = _gate(workspace, membership).call("account.summary_get",
                                             params={"extra_fields": "physical_address"}).data
    return data if isinstance(data, dict) else {}
