"""Showing campaign times in the zones the issue asks for: the member's own, the
workspace's and UTC.

    {% load campaign_times %}
    {% member_time campaign.updated_upstream %}          <time> in the member's zone
    {% zone_times email.planned_send_at %}               member / workspace / UTC lines

Both tags read the request from the template context (every page has it), so a
template never has to pass zones around. A zone name that Python doesn't know
(hand-edited data, an old tzdata) falls back to UTC rather than breaking a page.
`zone_named` is shared with the forms that read a time typed in the member's zone,
and `format_in_zone` with any code that writes a time for people.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
import zoneinfo

from django import template
from django.utils import timezone

register = template.Library()

def _known_zone_name(name: str | None) -> str:
    try:
        zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"


def zone_named(name: str | None) -> tzinfo:
    return zoneinfo.ZoneInfo(_known_zone_name(name))


def member_zone_name(request) -> str:
    return _known_zone_name(getattr(getattr(request, "user", None), "time_zone", ""))


def workspace_zone_name(request) -> str:
    return _known_zone_name(getattr(getattr(request, "workspace", None), "time_zone", ""))


def format_in_zone(value: datetime, zone_name: str) -> str:
    """"3 Jun 2025, 14:05" in that zone (24-hour clock: no am/pm ambiguity)."""
    local = timezone.localtime(value, zone_named(zone_name))
    return f"{local.day} {local:%b %Y, %H:%M}"


@dataclass(frozen=True)
class ZoneTime:
    label: str  # "Your time", "Workspace", "UTC"
    zone: str
    text: str


def zone_times_for(value: datetime, request) -> list[ZoneTime]:
    """The moment in the member's zone, the workspace's and UTC — each once: a
    zone that repeats an earlier line is left out (a member in the workspace's
    zone sees two lines, not three)."""
    lines: list[ZoneTime] = []
    seen: set[str] = set()
    for label, zone in (
        ("Your time", member_zone_name(request)),
        ("Workspace", workspace_zone_name(request)),
        ("UTC", "UTC"),
    ):
        if zone in seen:
            continue
        seen.add(zone)
        lines.append(ZoneTime(label=label, zone=zone, text=format_in_zone(value, zone)))
    return lines


@register.inclusion_tag("campaigns/campaigns/_member_time.html", takes_context=True)
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


@register.inclusion_tag("campaigns/campaigns/_zone_times.html", takes_context=True)
def zone_times(context, value: datetime | None, empty: str = "—") -> dict:
    """The moment in the member's, the workspace's and UTC zones, one per line."""
    if not isinstance(value, datetime):
        return {"lines": [], "empty": empty}
    return {
        "lines": zone_times_for(value, context.get("request")),
        "iso": value.astimezone(UTC).isoformat(),
        "empty": empty,
    }
