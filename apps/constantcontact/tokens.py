"""The one place that reads, refreshes and stores Constant Contact tokens.

Access tokens live 24 hours; refresh tokens may be rotating and single-use
(contract §4). Two processes refreshing with the same refresh token, or a new
pair received but not saved, kill the grant (contract §5.1). So:

- a token is refreshed a few minutes before it expires, by one process at a
  time (a Redis lock per connection); whoever gets the lock re-reads the row
  first and uses a pair someone else just saved instead of refreshing again;
- the new pair is committed (a durable transaction, so never inside a caller's
  transaction that could still roll back) before it is used;
- a 401 forces one refresh, unless another process already refreshed since the
  caller's token was read;
- `invalid_grant` marks the connection "needs reconnect" and tells the admins;
- without Redis (the lock, the token endpoint's limiter) nothing is refreshed:
  LimiterUnavailable, and the stored pair stays as it is.

Never call the gate inside `transaction.atomic()`: holding a transaction open
across HTTP calls is wrong anyway, and a refresh there raises.
"""

from datetime import datetime, timedelta
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from redis.exceptions import LockError, RedisError

from apps.constantcontact import client, conf, crypto
from apps.constantcontact.errors import (
    ConstantContactError,
    LimiterUnavailable,
    NeedsReconnect,
    NotConnected,
    UpstreamUnavailable,
)
from apps.constantcontact.models import Connection
from apps.constantcontact.ratelimit import token_limiter
from apps.constantcontact.services import connection_mark_needs_reconnect
from apps.core.redis import redis_client

logger = logging.getLogger(__name__)

# Access tokens last 24 h (contract §4); used when a response leaves expires_in out.
DEFAULT_LIFETIME = 86400
# The lock outlives the slowest refresh (3 attempts x 20 s of timeouts, plus the
# token limiter's wait), so it can't expire under a live refresher.
LOCK_TIMEOUT = 90
LOCK_WAIT = 60


def _context(connection: Connection, which: str) -> str:
    return f"cc-connection:{connection.workspace_id}:{which}"


def _fresh_enough(connection: Connection, now: datetime) -> bool:
    return (
        connection.access_expires_at is not None
        and connection.access_expires_at - now > timedelta(seconds=conf.refresh_margin_seconds())
    )


def _require_connected(connection: Connection) -> None:
    if connection.status == Connection.Status.NEEDS_RECONNECT:
        raise NeedsReconnect()
    if connection.status != Connection.Status.CONNECTED or not connection.refresh_token_ciphertext:
        raise NotConnected()


def apply_token_response(connection: Connection, payload: dict[str, Any], *, now: datetime) -> None:
    """Put a token endpoint response on `connection` (not saved)."""
    connection.access_token_ciphertext = crypto.seal(
        payload["access_token"], context=_context(connection, "access")
    )
    # Long-lived refresh tokens come back unchanged, rotating ones new (contract §4);
    # keep the stored one if the response has none.
    if payload.get("refresh_token"):
        connection.refresh_token_ciphertext = crypto.seal(
            payload["refresh_token"], context=_context(connection, "refresh")
        )
    lifetime = int(payload.get("expires_in") or DEFAULT_LIFETIME)  # seconds (contract §4)
    connection.access_expires_at = now + timedelta(seconds=lifetime)
    if payload.get("scope"):
        connection.granted_scopes = " ".join(sorted(set(str(payload["scope"]).split())))
    connection.last_refreshed_at = now
    connection.token_version += 1
    connection.updated_at = now


def read_access_token(connection: Connection) -> str:
    return crypto.unseal(connection.access_token_ciphertext, context=_context(connection, "access"))


def read_refresh_token(connection: Connection) -> str:
    return crypto.unseal(
        connection.refresh_token_ciphertext, context=_context(connection, "refresh")
    )


def valid_access_token(connection: Connection) -> str:
    """An access token good for at least the refresh margin, refreshing if needed."""
    _require_connected(connection)
    if _fresh_enough(connection, timezone.now()):
        return read_access_token(connection)
    try:
        return _refresh(connection, needed=lambda c: not _fresh_enough(c, timezone.now()))
    except ConstantContactError as exc:
        # The sign-in service is briefly down or busy, but the token we hold still
        # works for a while: use it, and refresh on a later call.
        still_valid = (connection.access_expires_at or timezone.now()) - timezone.now()
        if exc.transient and still_valid > timedelta(seconds=30):
            logger.warning("cc token refresh postponed: %r", exc)
            return read_access_token(connection)
        raise


def force_refresh(connection: Connection, *, seen_version: int) -> str:
    """After a 401: a new token, unless someone refreshed since `seen_version` was read."""
    return _refresh(connection, needed=lambda c: c.token_version == seen_version)


def _refresh(connection: Connection, *, needed) -> str:
    lock = redis_client().lock(
        f"{conf.redis_prefix()}:token-refresh:{connection.pk}",
        timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT, sleep=0.05,
    )
    try:
        acquired = lock.acquire()
    except RedisError as exc:
        # Refreshing without the lock could spend a rotating refresh token twice.
        raise LimiterUnavailable(
            "The Constant Contact token could not be refreshed: Redis, which holds the "
            "refresh lock and the rate limiter, is down. Nothing was sent."
        ) from exc
    if not acquired:
        raise UpstreamUnavailable("Another process is still refreshing the Constant Contact token.")
    try:
        # Another process may have refreshed while we waited: its pair is in the row.
        connection.refresh_from_db()
        _require_connected(connection)
        if not needed(connection):
            return read_access_token(connection)
        try:
            payload = client.token_refresh(
                refresh_token=read_refresh_token(connection), limiter=token_limiter()
            )
        except NeedsReconnect as exc:
            connection_mark_needs_reconnect(
                connection=connection, reason=exc.message or "The refresh token was refused."
            )
            raise
        now = timezone.now()
        # durable=True: the pair must really be committed before it's used; inside a
        # caller's transaction a rollback would lose a rotated refresh token for good.
        with transaction.atomic(durable=True):
            row = Connection.objects.select_for_update().get(pk=connection.pk)
            apply_token_response(row, payload, now=now)
            row.last_error = ""
            row.save()
        connection.refresh_from_db()
        logger.info("cc token refreshed for workspace %s", connection.workspace_id)
        return payload["access_token"]
    finally:
        try:
            lock.release()
        except LockError:
            logger.warning("cc token refresh lock expired before release")
        except RedisError as exc:  # it expires by itself (LOCK_TIMEOUT)
            logger.warning("cc token refresh lock not released: %r", exc)


class ConnectionTokens:
    """The token source the API client uses for one connection."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self._seen_version = connection.token_version

    def follow(self, connection: Connection) -> None:
        """Use `connection`, the row as just re-read by the gate's per-call check:
        it carries whatever pair another process saved meanwhile."""
        self.connection = connection
        self._seen_version = connection.token_version

    def access_token(self) -> str:
        token = valid_access_token(self.connection)
        self._seen_version = self.connection.token_version
        return token

    def refresh_after_unauthorized(self) -> str:
        token = force_refresh(self.connection, seen_version=self._seen_version)
        self._seen_version = self.connection.token_version
        return token
