"""Template helpers of the overview: how long ago, in words."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now", "4 minutes ago", "3 days ago" (one unit: the exact time sits beside it)."""
    if not isinstance(value, datetime):
        return ""
    now = timezone.now()
    if now - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now, depth=1)} ago"
