"""The overview's reads on their own: the timeline's days in the member's zone,
and the connection's four states."""

from datetime import UTC, datetime, timedelta
import zoneinfo

from apps.constantcontact.models import Connection
from apps.dashboard.selectors.campaigns import scheduled_timeline
from apps.dashboard.selectors.health import connection_state
from apps.dashboard.selectors.work import activity_text
from apps.mirror.models import CampaignStatus
from tests.dashboard.populate import connect
from tests.factories import CampaignFactory, ContactListFactory, EmailActivityFactory

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 05:00 in Los Angeles (UTC-7)


def _scheduled(world, name, at, **email):
    campaign = CampaignFactory(workspace=world.workspace, name=name,
                               status=CampaignStatus.SCHEDULED)
    EmailActivityFactory(campaign=campaign, scheduled_at=at, **email)
    return campaign


def test_the_timeline_groups_sends_by_day_in_the_members_zone(world):
    vip = ContactListFactory(workspace=world.workspace, name="VIP")
    # 05:00 UTC on the 11th is still the 10th, 22:00, in Los Angeles.
    _scheduled(world, "Late tonight", datetime(2026, 3, 11, 5, 0, tzinfo=UTC),
               contact_list_ids=[vip.cc_id])
    _scheduled(world, "Early tomorrow", datetime(2026, 3, 11, 8, 0, tzinfo=UTC))
    _scheduled(world, "Next week", datetime(2026, 3, 17, 16, 30, tzinfo=UTC))
    _scheduled(world, "In a month", datetime(2026, 4, 10, 16, 0, tzinfo=UTC))
    _scheduled(world, "Not read yet", None)
    draft = CampaignFactory(workspace=world.workspace, name="A draft")
    EmailActivityFactory(campaign=draft, scheduled_at=datetime(2026, 3, 12, tzinfo=UTC))

    timeline = scheduled_timeline(workspace=world.workspace, zone=LA, now=NOW)

    assert [d.label for d in timeline.days] == ["Today", "Tomorrow", "Tuesday 17 March"]
    today, tomorrow, later = timeline.days
    assert [(s.email.campaign.name, s.at.strftime("%H:%M")) for s in today.sends] == [
        ("Late tonight", "22:00")]
    assert today.sends[0].audience == ["VIP"]
    assert [(s.email.campaign.name, s.at.strftime("%H:%M")) for s in tomorrow.sends] == [
        ("Early tomorrow", "01:00")]
    assert later.sends[0].at.strftime("%H:%M") == "09:30"
    assert timeline.later == 1
    assert timeline.time_unknown == 1


def test_an_unconnected_workspace_is_not_connected(world):
    assert connection_state(workspace=world.workspace, now=NOW).key == "not_connected"


def test_a_healthy_connection_is_connected(world):
    connect(world.workspace, now=NOW)
    state = connection_state(workspace=world.workspace, now=NOW)
    assert (state.key, state.tone) == ("connected", "success")


def test_a_token_about_to_run_out_is_expiring(world):
    connect(world.workspace, now=NOW, access_expires_at=NOW + timedelta(minutes=2))
    assert connection_state(workspace=world.workspace, now=NOW).key == "expiring"


def test_without_a_refresh_token_the_access_token_is_expiring_then_failing(world):
    connect(world.workspace, now=NOW, refresh_token_ciphertext="")
    assert connection_state(workspace=world.workspace, now=NOW).key == "expiring"
    connect(world.workspace, now=NOW, refresh_token_ciphertext="",
            access_expires_at=NOW - timedelta(minutes=1))
    assert connection_state(workspace=world.workspace, now=NOW).key == "failing"


def test_a_refused_refresh_is_failing_with_constant_contacts_words(world):
    connect(world.workspace, now=NOW, status=Connection.Status.NEEDS_RECONNECT,
            last_error="invalid_grant: the refresh token was revoked", last_error_at=NOW)
    state = connection_state(workspace=world.workspace, now=NOW)
    assert (state.key, state.label) == ("failing", "Refresh failing")
    assert "revoked" in state.error


def test_activity_reads_as_one_phrase():
    assert activity_text("Scheduled campaign", "campaign “Spring sale”") == (
        "Scheduled campaign “Spring sale”")
    assert activity_text("Invited member", "ava@example.com") == "Invited member: ava@example.com"
    assert activity_text("Scheduled campaign", "POST /emails/activities/x/schedules") == (
        "Scheduled campaign")
