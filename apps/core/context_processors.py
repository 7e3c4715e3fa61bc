"""Template context every page can use."""

from django.conf import settings


def polling(request) -> dict:
    """`poll_seconds`: the one interval every polled element uses (`hx-trigger="every
    {{ poll_seconds }}s"`); the poll's answer stops it with status 286."""
    return {"poll_seconds": settings.CCADMIN_POLL_SECONDS}
