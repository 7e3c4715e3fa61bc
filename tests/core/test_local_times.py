"""The local_times template tags: a moment in the member's zone, and in the
member's, the workspace's and UTC zones without repeats; unknown zones fall
back to UTC rather than breaking a page."""

from datetime import UTC, datetime
from types import SimpleNamespace

from django.template import Context, Template

from apps.core.timezones import format_in_zone, zone_times_for

MOMENT = datetime(2025, 7, 14, 16, 45, tzinfo=UTC)


def request(member: str, workspace: str):
    return SimpleNamespace(user=SimpleNamespace(time_zone=member),
                           workspace=SimpleNamespace(time_zone=workspace))


def render(source: str, **context) -> str:
    return Template("{% load local_times %}" + source).render(Context(context))


def test_member_time_is_a_time_element_in_the_members_zone():
    html = render("{% member_time when %}", when=MOMENT,
                  request=request("Europe/Berlin", "UTC"))

    assert '<time datetime="2025-07-14T16:45:00+00:00"' in html
    assert ">14 Jul 2025, 18:45</time>" in html
    assert 'title="14 Jul 2025, 16:45 UTC"' in html


def test_member_time_of_nothing_is_a_dash():
    assert "—" in render("{% member_time when %}", when=None, request=request("UTC", "UTC"))


def test_zone_times_lists_each_zone_once():
    lines = zone_times_for(MOMENT, request("Australia/Sydney", "America/Chicago"))

    assert [(z.label, z.zone, z.text) for z in lines] == [
        ("Your time", "Australia/Sydney", "15 Jul 2025, 02:45"),
        ("Workspace", "America/Chicago", "14 Jul 2025, 11:45"),
        ("UTC", "UTC", "14 Jul 2025, 16:45"),
    ]
    assert [z.label for z in zone_times_for(MOMENT, request("UTC", "UTC"))] == ["Your time"]


def test_an_unknown_zone_reads_as_utc():
    lines = zone_times_for(MOMENT, request("Mars/Olympus_Mons", "Europe/Paris"))

    assert lines[0].zone == "UTC" and lines[0].text == "14 Jul 2025, 16:45"


def test_format_in_zone_writes_a_24_hour_time():
    assert format_in_zone(MOMENT, "Asia/Kolkata") == "14 Jul 2025, 22:15"
