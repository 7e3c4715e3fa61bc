"""Audit events for what accounts announces and for sign-in activity (connected
in AuditConfig.ready).

Team changes (invitations, roles, memberships, settings) arrive as
`apps.accounts.events.account_changed`: accounts sits below the audit log and
announces them rather than importing it.

Signing in, out, changing a password and setting up two-factor authentication
belong to a person, not to a workspace, so these events carry no workspace; the
audit screen of every workspace the person is a member of shows them
(`apps.audit.selectors.audit_event_scope`).

Nothing secret is ever recorded: no password, no one-time code, no recovery
code, no token. A failed attempt names the account only when one exists, so
the log never collects whatever strangers type into the email field.
"""

import hashlib

from allauth.account import signals as account_signals
from allauth.account.adapter import get_adapter
from allauth.account.authentication import get_authentication_records
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

from apps.accounts import events as account_events
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record

UNKNOWN_ACCOUNT = "unknown account"

# A locked address refuses attempts without hashing a password, so an attacker
# could hammer it at full speed; one lockout event per address per minute is
# enough to tell the story without letting them flood the log.
LOCKOUT_EVENT_INTERVAL_SECONDS = 60

_TOTP = Authenticator.Type.TOTP
_RECOVERY_CODES = Authenticator.Type.RECOVERY_CODES


def _client_ip(request) -> str:
    if request is None:
        return ""
    try:
        # allauth's adapter honours ALLAUTH_TRUSTED_PROXY_COUNT behind a proxy.
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return ""


def _account_for(login: str):
    """The user an attempted sign-in address belongs to, or None."""
    login = (login or "").strip()
    if not login or "@" not in login:
        return None
    return get_user_model().objects.filter(email__iexact=login).first()


def _target_for(login: str) -> str:
    user = _account_for(login)
    return user.email if user is not None else UNKNOWN_ACCOUNT


def _signed_in_actor(request, user):
    """The person acting: the signed-in user, else the user a signal names."""
    request_user = getattr(request, "user", None)
    if request_user is not None and request_user.is_authenticated:
        return request_user
    return user


# --- Team changes ---------------------------------------------------------------------


@receiver(account_events.account_changed, dispatch_uid="audit_account_changed")
def on_account_changed(sender, action, actor, workspace, target, details, **kwargs) -> None:
    audit_event_record(action=action, actor=actor, workspace=workspace, target=target,
                       details=details)


# --- Signing in and out -----------------------------------------------------------


@receiver(account_signals.user_logged_in, dispatch_uid="audit_login_succeeded")
def on_login_succeeded(sender, request, user, **kwargs) -> None:
    # allauth's signal, not django's: it fires once the whole login (password
    # and, if set up, the second factor) has completed, and not for the
    # force_login() of tests or internal logins.
    records = get_authentication_records(request, user) if request is not None else []
    methods = sorted({record.get("method", "") for record in records} - {""})
    details: dict = {"ip": _client_ip(request), "methods": methods}
    second_factor = [r.get("type") for r in records if r.get("method") == "mfa"]
    if second_factor:
        details["second_factor"] = second_factor[-1]
    audit_event_record(action="login.succeeded", actor=user, target=user.email, details=details)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked the password in `credentials`; we still read
    # nothing but the login name from it.
    login = credentials.get("email") or credentials.get("username") or ""
    account = _account_for(login)
    reason = "invalid_credentials"
    if account is not None and not account.is_active:
        reason = "account_inactive"
    audit_event_record(
        action="login.failed",
        target=account.email if account is not None else UNKNOWN_ACCOUNT,
        outcome=Outcome.FAILURE,
        details={"reason": reason, "ip": _client_ip(request)},
    )


@receiver(account_events.login_locked_out, dispatch_uid="audit_login_locked_out")
def on_login_locked_out(sender, request, login: str, **kwargs) -> None:
    """Audit a sign-in that allauth's `login_failed` rate limit refused.

    allauth sends no signal for this: it raises the "too many login attempts"
    form error from `DefaultAccountAdapter.pre_authenticate`, so our account
    adapter announces it from its override of that method.
    """
    target = _target_for(login)
    # The cache key is a hash: raw addresses (or whatever was typed) stay out of Redis keys.
    digest = hashlib.sha256(f"{target}|{_client_ip(request)}".encode()).hexdigest()
    if not cache.add(f"audit:lockout:{digest}", 1, timeout=LOCKOUT_EVENT_INTERVAL_SECONDS):
        return
    audit_event_record(
        action="login.locked_out",
        target=target,
        outcome=Outcome.DENIED,
        details={"reason": "too_many_failed_attempts", "ip": _client_ip(request)},
    )


@receiver(user_logged_out, dispatch_uid="audit_logout")
def on_logout(sender, request, user, **kwargs) -> None:
    if user is None:  # logging out a visitor who was never signed in
        return
    audit_event_record(action="logout", actor=user, target=user.email)


# --- Passwords ------------------------------------------------------------------------


@receiver(account_signals.password_changed, dispatch_uid="audit_password_changed")
def on_password_changed(sender, request, user, **kwargs) -> None:
    audit_event_record(
        action="password.changed", actor=user, target=user.email,
        details={"ip": _client_ip(request)},
    )


@receiver(account_signals.password_set, dispatch_uid="audit_password_set")
def on_password_set(sender, request, user, **kwargs) -> None:
    audit_event_record(
        action="password.set", actor=user, target=user.email, details={"ip": _client_ip(request)}
    )


@receiver(account_signals.password_reset, dispatch_uid="audit_password_reset")
def on_password_reset(sender, request, user, **kwargs) -> None:
    # The person proved they own the address by following the emailed link.
    audit_event_record(
        action="password.reset", actor=user, target=user.email, details={"ip": _client_ip(request)}
    )


# --- Two-factor authentication ------------------------------------------------------

_ADDED = {_TOTP: "mfa.totp_activated", _RECOVERY_CODES: "mfa.recovery_codes_generated"}
_REMOVED = {_TOTP: "mfa.totp_deactivated", _RECOVERY_CODES: "mfa.recovery_codes_removed"}


@receiver(mfa_signals.authenticator_added, dispatch_uid="audit_mfa_added")
def on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    action = _ADDED.get(authenticator.type, f"mfa.{authenticator.type}_added")
    audit_event_record(action=action, actor=_signed_in_actor(request, user), target=user.email)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="audit_mfa_removed")
def on_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    action = _REMOVED.get(authenticator.type, f"mfa.{authenticator.type}_removed")
    audit_event_record(action=action, actor=_signed_in_actor(request, user), target=user.email)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="audit_mfa_reset")
def on_authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    action = (
        "mfa.recovery_codes_regenerated"
        if authenticator.type == _RECOVERY_CODES
        else f"mfa.{authenticator.type}_reset"
    )
    audit_event_record(action=action, actor=_signed_in_actor(request, user), target=user.email)


@receiver(mfa_signals.authenticator_used, dispatch_uid="audit_mfa_used")
def on_authenticator_used(sender, request, user, authenticator, **kwargs) -> None:
    # A spent recovery code is worth an admin's attention (a lost phone?); a
    # routine authenticator code is already told by login.succeeded.
    if authenticator.type != _RECOVERY_CODES:
        return
    # Re-read: allauth marks the code used on a fresh copy of the row, not on this one.
    current = Authenticator.objects.filter(pk=authenticator.pk).first() or authenticator
    remaining = len(current.wrap().get_unused_codes())
    audit_event_record(
        action="mfa.recovery_code_used",
        actor=_signed_in_actor(request, user),
        target=user.email,
        details={"codes_left": remaining, "reauthentication": bool(kwargs.get("reauthenticated"))},
    )


@receiver(mfa_signals.authentication_failed, dispatch_uid="audit_mfa_failed")
def on_mfa_failed(sender, request, user, authenticator, **kwargs) -> None:
    reauthentication = bool(kwargs.get("reauthentication"))
    audit_event_record(
        action="mfa.reauthentication_failed" if reauthentication else "login.mfa_failed",
        # At login the password step passed but nobody is signed in yet.
        actor=user if reauthentication else None,
        target=user.email,
        outcome=Outcome.FAILURE,
        details={"ip": _client_ip(request), "method": authenticator.type},
    )
