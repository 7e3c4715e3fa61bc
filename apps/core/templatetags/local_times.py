"""Showing times in the zones people read them in: the member's own, the
workspace's and UTC.

    {% load local_times %}
    {% member_time campaign.updated_upstream %}          <time> in the member's zone
    {% zone_times email.planned_send_at %}               member / workspace / UTC lines

Both tags read the request from the template context (every page has it), so a
template never has to pass zones around.
"""

from datetime import UTC, datetime

from django import template

from apps.core.timezones import format_in_zone, member_zone_name, zone_times_for

register = template.Library()


@register.inclusion_tag("core/_member_time.html", takes_context=True)
def member_time(context, value: datetime | None, empty: str = "—") -> dict:
    """A <time> in the member's zone, with the UTC moment in its title."""
    if not isinstance(value, datetime):
        return {"value": None, "empty": empty}
    request = context.get("request")
    return {
        "value": value,
        "iso": value.astimezone(UTC).isoformat(),
        "text": format_in_zone(value, member_zone_name(request)),
        "utc": format_in_zone(value, "UTC"),
    }


@register.inclusion_tag("core/_zone_times.html", takes_context=True)
def zone_times(context, value: datetime | None, empty: str = "—") -> dict:
    """The moment in the member's, the workspace's and UTC zones, one per line."""
    if not isinstance(value, datetime):
        return {"lines": [], "empty": empty}
    return {
        "lines": zone_times_for(value, context.get("request")),
        "iso": value.astimezone(UTC).isoformat(),
        "empty": empty,
    }
