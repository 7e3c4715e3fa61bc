"""The unread count in the top bar, on every page a signed-in member sees."""

from apps.notifications.selectors import notifications_unread_count


def unread_notifications(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": notifications_unread_count(user=user)}
