"""Is Constant Contact connected, and how fresh is what the screens show.

Reads the connection row and the sync runs; never calls Constant Contact.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from apps.accounts.grants import Area
from apps.accounts.models import Workspace
from apps.constantcontact import conf
from apps.constantcontact.models import Connection
from apps.constantcontact.selectors import connection_get, connection_health
from apps.mirror.models import SyncRun
from apps.mirror.selectors.runs import Freshness, sync_freshness


@dataclass(frozen=True)
class ConnectionState:
    key: str  # "connected", "expiring", "failing" or "not_connected"
    label: str
    tone: str  # the badge's colour: "success", "pending", "failure" or ""
    account_name: str
    detail: str  # what it means for the team, in one or two sentences
    expires_at: datetime | None = None  # the access token's, when it matters
    error: str = ""  # Constant Contact's last refusal, as recorded
    error_at: datetime | None = None

    @property
    def working(self) -> bool:
        return self.key in ("connected", "expiring")


def connection_state(*, workspace: Workspace, now: datetime) -> ConnectionState:
    """One of four states, from the connection row alone (one query)."""
    connection = connection_get(workspace=workspace)
    health = connection_health(connection=connection, now=now)
    if connection is None or health.status == Connection.Status.NOT_CONNECTED:
        return ConnectionState(
            key="not_connected", label="Not connected", tone="",
            account_name=connection.account_name if connection else "",
            detail="Nothing is synced and nothing can be sent until the workspace is "
                   "connected to its Constant Contact account.")
    name = connection.account_name
    if health.needs_reconnect:
        return ConnectionState(
            key="failing", label="Refresh failing", tone="failure", account_name=name,
            detail="Constant Contact refused to renew ccadmin's access. Syncs and sends are "
                   "stopped until an admin reconnects.",
            error=connection.last_error, error_at=connection.last_error_at)
    expires = health.access_expires_at
    if not health.refresh_token_present:
        # Without a refresh token nothing can renew the access token: it simply runs out.
        if health.access_expired or expires is None:
            return ConnectionState(
                key="failing", label="Refresh failing", tone="failure", account_name=name,
                detail="The access token has run out and there is no refresh token to renew "
                       "it. Syncs and sends are stopped until an admin reconnects.",
                expires_at=expires)
        return ConnectionState(
            key="expiring", label="Token expiring", tone="pending", account_name=name,
            detail="There is no refresh token to renew the access token: an admin must "
                   "reconnect before it runs out.", expires_at=expires)
    margin = timedelta(seconds=conf.refresh_margin_seconds())
    if expires is not None and expires - now <= margin:
        return ConnectionState(
            key="expiring", label="Token expiring", tone="pending", account_name=name,
            detail="The access token is about to run out; ccadmin renews it with the refresh "
                   "token on the next call to Constant Contact.", expires_at=expires)
    return ConnectionState(
        key="connected", label="Connected", tone="success", account_name=name,
        detail="Syncs run on their schedule; access is renewed automatically.",
        expires_at=expires)


# Each mirrored scope, the area whose read grant shows it, and the page it lives on.
@dataclass(frozen=True)
class Scope:
    scope: SyncRun.Scope
    area: Area
    label: str
    url_name: str


SCOPES = (
    Scope(SyncRun.Scope.CONTACTS, Area.CONTACTS, "Contacts, lists and tags", "contacts:sync"),
    Scope(SyncRun.Scope.CAMPAIGNS, Area.CAMPAIGNS, "Campaigns", "campaigns:campaign_list"),
    Scope(SyncRun.Scope.SEGMENTS, Area.SEGMENTS, "Segments", "segments:segment_index"),
    Scope(SyncRun.Scope.REPORTS, Area.REPORTS, "Reports", "reporting:overview"),
)


@dataclass(frozen=True)
class FreshnessRow:
    scope: Scope
    freshness: Freshness


def freshness_rows(*, workspace: Workspace, areas: set[Area]) -> list[FreshnessRow]:
    """How fresh each scope the member may read is: two small indexed queries a
    scope, four scopes at most, however many runs there have been."""
    return [FreshnessRow(scope=s, freshness=sync_freshness(workspace=workspace, scope=s.scope))
            for s in SCOPES if s.area in areas]
