"""Writes for notifications: `notify` (what the areas call), emailing after the
commit, marking read, and saving a member's choices.

`notify` records one in-app row per person and queues its email for after the
transaction commits, so a rolled-back action emails nobody. A failed email never
breaks the caller: the row keeps the notification, marked as not emailed, and
the log names the row and the error type — never an address or a subject.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from apps.notifications.kinds import Kind
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.selectors import preferences_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One kind of news for some people: `title` is the email subject and the list's
    headline, `body` a few plain sentences."""

    kind: str
    recipients: Iterable
    title: str
    body: str


def notify(*, workspace, url: str, messages: Sequence[Message]) -> list[Notification]:
    """Notify each recipient of `messages` about something at `url` (a local path).

    A person named in several messages gets only the first whose kind they have
    not turned off (an author who also schedules hears "approved" once). Emails go
    out after the commit."""
    served: set[int] = set()
    created: list[Notification] = []
    for message in messages:
        people = {}
        for user in message.recipients:
            if user is not None and user.is_active and user.pk not in served:
                people[user.pk] = user
        choices = preferences_for(user_ids=list(people), kind=message.kind)
        for pk, user in people.items():
            email, in_app = choices.get(pk, (True, True))
            if not (email or in_app):
                continue
            served.add(pk)
            created.append(Notification.objects.create(
                user=user, workspace=workspace, kind=message.kind, title=message.title[:200],
                body=message.body, url=url[:300], in_app=in_app,
                email_status=(Notification.Email.PENDING if email and user.email
                              else Notification.Email.OFF),
            ))
    pending = [n.pk for n in created if n.email_status == Notification.Email.PENDING]
    if pending:
        transaction.on_commit(lambda: notification_emails_send(notification_ids=pending))
    return created


def _absolute(path: str) -> str:
    return f"{settings.CCADMIN_PUBLIC_URL.rstrip('/')}{path}" if path else ""


def _email_for(notification: Notification) -> EmailMessage:
    context = {
        "notification": notification,
        "workspace": notification.workspace,
        "link": _absolute(notification.url),
        "preferences_link": _absolute(reverse("notification_preferences")),
    }
    return EmailMessage(
        subject=" ".join(f"[{notification.workspace.name}] {notification.title}".split()),
        body=render_to_string("notifications/email/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.user.email],
    )


def notification_emails_send(*, notification_ids: list[int]) -> int:
    """Email the pending notifications among `notification_ids`; returns how many
    went out. Each failure is recorded on its row and logged without personal data."""
    rows = list(
        Notification.objects.select_related("user", "workspace")
        .filter(pk__in=notification_ids, email_status=Notification.Email.PENDING)
    )
    if not rows:
        return 0
    sent = 0
    try:
        connection = get_connection()
        connection.open()
    except Exception as exc:  # a backend that can't even connect: every row failed
        logger.warning("notification emails not sent: %d rows (%s)", len(rows),
                       type(exc).__name__)
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
            email_status=Notification.Email.FAILED)
        return 0
    try:
        for row in rows:
            try:
                message = _email_for(row)
                message.connection = connection
                message.send()
            except Exception as exc:  # SMTP errors, a bad address: never the caller's failure
                logger.warning("notification %s: email not sent (%s)", row.pk,
                               type(exc).__name__)
                status, emailed_at = Notification.Email.FAILED, None
            else:
                sent += 1
                status, emailed_at = Notification.Email.SENT, timezone.now()
            Notification.objects.filter(pk=row.pk).update(email_status=status,
                                                          emailed_at=emailed_at)
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken SMTP session; what was sent is recorded
            pass
    return sent


def notification_open(*, notification: Notification) -> str:
    """Mark `notification` read; returns where it points (a local path, or '')."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification.url


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now())


def notification_preferences_save(*, user, choices: dict[str, tuple[bool, bool]]) -> None:
    """Save (email, in_app) per kind; a kind left at both on keeps no row (the default)."""
    with transaction.atomic():
        for kind in Kind:
            email, in_app = choices.get(kind.value, (True, True))
            if email and in_app:
                NotificationPreference.objects.filter(user=user, kind=kind.value).delete()
            else:
                NotificationPreference.objects.update_or_create(
                    user=user, kind=kind.value, defaults={"email": email, "in_app": in_app})
