"""Times for people: in the member's own zone, the workspace's and UTC.

A zone name that Python doesn't know (hand-edited data, an old tzdata) falls
back to UTC rather than breaking a page. `zone_named` is shared with the forms
that read a time typed in the member's zone, and `format_in_zone` with any code
that writes a time for people; the `local_times` template tags show them.
"""

from dataclasses import dataclass
from datetime import datetime, tzinfo
import zoneinfo

from django.utils import timezone


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
