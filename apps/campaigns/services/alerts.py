"""Telling people when ccadmin acted on a send by itself: the workspace's admins,
the campaign's author and whoever else the caller names.

Each person gets their own email (no one sees the others' addresses), and the
audit log records that the alert went out — the count, never the addresses.
"""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail

from apps.accounts.selectors import workspace_admin_emails
from apps.audit.services import audit_event_record
from apps.mirror.models import Campaign

logger = logging.getLogger(__name__)


def campaign_alert_send(*, campaign: Campaign, subject: str, body: str, also=()) -> int:
    """Email `subject` and `body` about `campaign`; returns how many were sent."""
    workspace = campaign.workspace
    recipients = set(workspace_admin_emails(workspace=workspace))
    people = [campaign.author, *also]
    recipients.update(person.email for person in people if person is not None and person.email)
    body = f"{body}\n\n— ccadmin, workspace “{workspace.name}”"
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
                for address in sorted(recipients)]
    try:
        send_mass_mail(messages, fail_silently=False)
    except OSError as exc:  # smtplib's errors are OSErrors; the audit event still tells it
        logger.error("campaign alert for %s could not be emailed (%s)", campaign.pk,
                     type(exc).__name__)
        sent = 0
    else:
        sent = len(messages)
    audit_event_record(
        action="campaign.alert_sent", actor_label="system", workspace=workspace,
        target=campaign.audit_target, details={"subject": subject, "recipients": sent},
    )
    return sent
