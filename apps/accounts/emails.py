"""The invitation email: plain text with an HTML alternative.

The raw token exists only here and in the recipient's inbox (the database keeps
a hash), so the caller builds the absolute accept link and hands it in.
"""

import zoneinfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from apps.accounts.models import Invitation


def invitation_email_send(*, invitation: Invitation, accept_url: str) -> None:
    workspace = invitation.workspace
    try:
        zone = zoneinfo.ZoneInfo(workspace.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    context = {
        "invitation": invitation,
        "workspace": workspace,
        "role": invitation.role,
        "inviter": invitation.invited_by.display_name if invitation.invited_by else "An admin",
        "accept_url": accept_url,
        # Said in the workspace's own zone, with the zone named, so nobody guesses.
        "expires_at": timezone.localtime(invitation.expires_at, zone),
    }
    subject = render_to_string("accounts/email/invitation_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # a header must be one line
        body=render_to_string("accounts/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )
    html = render_to_string("accounts/email/invitation.html", context)
    message.attach_alternative(html, "text/html")
    message.send()
