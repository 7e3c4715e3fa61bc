"""Connecting a workspace to Constant Contact: authorization code flow with PKCE.

The connect screen calls `oauth_start()`, keeps `state` and `verifier` in the
member's session (single use, a few minutes), and redirects to the URL. The
callback checks `state` with `oauth_state_matches`, drops both from the
session, and calls `oauth_complete(...)`. Constant Contact support and RFC 9700
agree on the details (contract §4; reliability §1.1, §1.2):

- the redirect URI comes from settings and is byte-identical in both requests;
- `state` is 256 random bits, single use;
- PKCE S256 with a fresh verifier per attempt (never `plain`), alongside the
  client secret, which we are confidential enough to keep;
- `offline_access`, or there is no refresh token.
"""

import base64
import hashlib
import logging
import secrets
from urllib.parse import quote, urlencode
from zoneinfo import available_timezones

from django.utils import timezone

from apps.accounts.models import Membership
from apps.accounts.services import workspace_update_settings
from apps.audit.services import audit_event_record
from apps.constantcontact import client, conf, tokens
from apps.constantcontact.catalog import SCOPES, Scope
from apps.constantcontact.crypto import TokenDecryptionError
from apps.constantcontact.errors import ConstantContactError, GrantDenied, OAuthError
from apps.constantcontact.gate import Actor, gate_for
from apps.constantcontact.models import Connection
from apps.constantcontact.ratelimit import token_limiter

logger = logging.getLogger(__name__)


def pkce_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def oauth_start() -> tuple[str, str, str]:
    """(authorize URL, state, PKCE verifier) for one connection attempt."""
    state = secrets.token_urlsafe(32)
    # 64 random bytes -> 86 characters, inside RFC 7636's 43-128.
    verifier = secrets.token_urlsafe(64)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": conf.client_id(),
            "redirect_uri": conf.redirect_uri(),
            "scope": " ".join(SCOPES),
            "state": state,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        },
        quote_via=quote,  # spaces as %20, as Constant Contact's docs show
    )
    return f"{conf.auth_base_url()}/authorize?{query}", state, verifier


def oauth_state_matches(*, expected: str | None, received: str | None) -> bool:
    """Constant-time check of the callback's state against the one in the session."""
    if not expected or not received:
        return False
    return secrets.compare_digest(expected.encode(), received.encode())


def oauth_complete(
    *, connection: Connection, code: str, verifier: str, actor: Membership
) -> Connection:
    """Exchange the code for tokens, store them, and read the account's name.

    `actor` is the admin who connected; the callback view has checked `state`.
    """
    if actor.workspace_id != connection.workspace_id or not actor.role.is_admin:
        raise GrantDenied("Only an admin of this workspace can connect Constant Contact.",
                          reason="role_denies")
    try:
        payload = client.token_exchange(
            code=code, verifier=verifier, redirect_uri=conf.redirect_uri(),
            limiter=token_limiter(),
        )
    except ConstantContactError as exc:
        audit_event_record(
            action="cc.connection.connect", actor=actor.user, workspace=connection.workspace,
            target="Constant Contact connection", outcome="failure",
            details={"error_key": exc.error_key, "status": exc.status},
        )
        raise
    if not payload.get("refresh_token"):
        raise OAuthError("Constant Contact granted no refresh token (offline_access missing).")
    now = timezone.now()
    connection.status = Connection.Status.CONNECTED
    tokens.apply_token_response(connection, payload, now=now)
    if not payload.get("scope"):
        connection.granted_scopes = " ".join(sorted(SCOPES))
    connection.connected_by = actor.user
    connection.connected_at = now
    connection.last_error = ""
    connection.last_error_at = None
    connection.save()
    audit_event_record(
        action="cc.connection.connect", actor=actor.user, workspace=connection.workspace,
        target="Constant Contact connection", details={"scopes": connection.granted_scopes},
    )
    _read_account(connection=connection, actor=actor)
    return connection


def _read_account(*, connection: Connection, actor: Membership) -> None:
    """Name the connected account on the connection (best effort: the connection
    works without it, and the screen can try again)."""
    if Scope.ACCOUNT_READ not in connection.scopes:
        return
    try:
        cc = gate_for(workspace=connection.workspace, actor=Actor.member(actor))
        summary = cc.call("account.summary_get").data or {}
    except ConstantContactError as exc:
        logger.warning("could not read the Constant Contact account summary: %r", exc)
        return
    account_id = str(summary.get("encoded_account_id") or "")[:100]
    if connection.account_id and account_id and account_id != connection.account_id:
        # Reconnected to a different Constant Contact account: everything mirrored so
        # far belongs to the old one. Say so loudly; the sync decides what to do.
        logger.warning("workspace %s reconnected to another Constant Contact account",
                       connection.workspace_id)
        audit_event_record(
            action="cc.connection.account_changed", actor=actor.user,
            workspace=connection.workspace, target="Constant Contact connection",
            details={"from": connection.account_id, "to": account_id},
        )
    first_connection = not connection.account_id
    connection.account_id = account_id
    connection.account_name = str(summary.get("organization_name") or "")[:200]
    connection.account_email = str(summary.get("contact_email") or "")[:254]
    connection.save(update_fields=["account_id", "account_name", "account_email"])
    if first_connection:
        _adopt_account_time_zone(connection=connection, actor=actor,
                                 zone=str(summary.get("time_zone_id") or ""))


def _adopt_account_time_zone(*, connection: Connection, actor: Membership, zone: str) -> None:
    """A new workspace's time zone defaults to the Constant Contact account's
    (`time_zone_id`, an IANA name set from the account's state), so the team's
    schedules read in local time from day one. Only while the workspace still
    has the default UTC: a zone an admin chose is kept."""
    workspace = connection.workspace
    if workspace.time_zone != "UTC" or zone in ("", "UTC") or zone not in available_timezones():
        return
    workspace_update_settings(
        workspace=workspace, actor=actor.user, name=workspace.name, time_zone=zone,
        require_mfa=workspace.require_mfa,
    )


def oauth_disconnect(*, connection: Connection, actor: Membership) -> Connection:
    """Forget the tokens (and ask Constant Contact to revoke the refresh token)."""
    if actor.workspace_id != connection.workspace_id or not actor.role.is_admin:
        raise GrantDenied("Only an admin of this workspace can disconnect Constant Contact.",
                          reason="role_denies")
    revoked = False
    if connection.refresh_token_ciphertext:
        # Best effort: a token we can no longer decrypt (a key-rotation mistake) or an
        # unreachable server must not keep the tokens stored here.
        try:
            client.token_revoke(token=tokens.read_refresh_token(connection),
                                hint="refresh_token", limiter=token_limiter())
            revoked = True
        except (TokenDecryptionError, ConstantContactError):
            revoked = False
    connection.status = Connection.Status.NOT_CONNECTED
    connection.access_token_ciphertext = connection.refresh_token_ciphertext = ""
    connection.access_expires_at = None
    connection.granted_scopes = ""
    connection.updated_at = timezone.now()
    connection.save()
    audit_event_record(
        action="cc.connection.disconnect", actor=actor.user, workspace=connection.workspace,
        target="Constant Contact connection", details={"revoked_upstream": revoked},
    )
    return connection

