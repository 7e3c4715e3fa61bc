"""What accounts announces, for the audit log to record.

The audit log is a floor above accounts (it reads members and workspaces), so
accounts never imports it. Instead it sends `account_changed` for every change
it makes, and `apps.audit.receivers` records each one as an audit event — in
the same transaction as the change, since a receiver runs inside `send()`.
"""

from typing import Any

from django.dispatch import Signal

# Sent with action, actor, workspace, target and details: one audit event each.
account_changed = Signal()
# Sent with request and login when the login rate limit refuses an attempt
# (allauth itself sends no signal for that; see AccountAdapter.pre_authenticate).
login_locked_out = Signal()


def announce(*, action: str, actor, workspace=None, target: str = "",
             details: dict[str, Any] | None = None) -> None:
    account_changed.send(
        sender=announce, action=action, actor=actor, workspace=workspace, target=target,
        details=details or {},
    )
