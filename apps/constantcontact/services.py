"""Writes for the workspace's Constant Contact connection (other than tokens, see
tokens.py, and the OAuth flow, see oauth.py). Every change is audited."""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.accounts.selectors import workspace_admin_emails
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.constantcontact.models import Connection

logger = logging.getLogger(__name__)


def connection_for(*, workspace: Workspace) -> Connection:
    """The workspace's connection row, created (not connected) on first use."""
    connection, _ = Connection.objects.get_or_create(workspace=workspace)
    return connection


def connection_mark_needs_reconnect(*, connection: Connection, reason: str) -> None:
    """The grant is dead: stop using it, and tell the admins once."""
    now = timezone.now()
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection.pk)
        was = row.status
        row.status = Connection.Status.NEEDS_RECONNECT
        # The tokens are useless now; don't keep secrets we can't use.
        row.access_token_ciphertext = row.refresh_token_ciphertext = ""
        row.access_expires_at = None
        row.last_error = reason[:255]
        row.last_error_at = row.updated_at = now
        row.save()
    connection.refresh_from_db()
    if was != Connection.Status.CONNECTED:
        return  # already reported
    workspace = connection.workspace
    audit_event_record(
        action="cc.connection.needs_reconnect", actor_label="system", workspace=workspace,
        target="Constant Contact connection", outcome=Outcome.FAILURE,
        details={"reason": reason[:200]},
    )
    subject = f"{workspace.name}: reconnect Constant Contact"
    body = (
        f"ccadmin lost its connection to the Constant Contact account of {workspace.name}: "
        f"Constant Contact no longer accepts its authorization ({reason}).\n\n"
        "Until an admin connects the account again, nothing is synced and no campaign can "
        "be scheduled. Sign in to ccadmin and use Connect Constant Contact on the account page."
    )
    messages = [
        (subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        for email in workspace_admin_emails(workspace=workspace)
    ]
    try:
        send_mass_mail(messages, fail_silently=False)
    except OSError:  # SMTP trouble; the audit event and the status still tell the story
        logger.exception("could not email admins about the Constant Contact connection")
