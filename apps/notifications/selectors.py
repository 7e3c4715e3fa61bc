"""Reads for notifications: a member's list, their unread count and their choices."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.notifications.kinds import AUDIENCE, Kind
from apps.notifications.models import Notification, NotificationPreference

# The list shows the newest; older ones stay in the table (and the audit log tells
# what happened in any case).
LIST_SIZE = 100


@dataclass(frozen=True)
class Choice:
    kind: str
    label: str
    audience: str
    email: bool
    in_app: bool


def _visible(*, user) -> QuerySet[Notification]:
    # Shown in the app when the member wants them there, and always when the email
    # failed (so nothing is lost); only in workspaces they still belong to.
    return Notification.objects.filter(
        Q(in_app=True) | Q(email_status=Notification.Email.FAILED),
        user=user, workspace__memberships__user=user,
    )


def notifications_of(*, user, limit: int = LIST_SIZE) -> list[Notification]:
    return list(_visible(user=user).select_related("workspace").order_by("-created_at", "-id")
                [:limit])


def notifications_unread_count(*, user) -> int:
    return _visible(user=user).filter(read_at__isnull=True).count()


def notification_of(*, user, notification_id: int) -> Notification:
    """The member's own notification; 404 for anyone else's."""
    return get_object_or_404(Notification, pk=notification_id, user=user)


def preference_choices(*, user) -> list[Choice]:
    """Every kind with the member's choice (both on unless they turned one off)."""
    saved = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    choices = []
    for kind in Kind:
        pref = saved.get(kind.value)
        choices.append(Choice(
            kind=kind.value, label=kind.label, audience=AUDIENCE[kind],
            email=pref.email if pref else True, in_app=pref.in_app if pref else True,
        ))
    return choices


def preferences_for(*, user_ids: list[int], kind: str) -> dict[int, tuple[bool, bool]]:
    """{user id: (email, in_app)} for those who changed `kind`'s default."""
    return {
        p.user_id: (p.email, p.in_app)
        for p in NotificationPreference.objects.filter(user_id__in=user_ids, kind=kind)
    }
