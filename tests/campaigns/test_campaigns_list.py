"""The campaigns list, as members use it: mirrored campaigns with their times in
the member's zone, deleted ones hidden unless asked for, the status filter, the
name search, the date sort, the htmx partial, the freshness line and "Sync now"."""

from datetime import UTC, datetime

from django.urls import reverse
import pytest

from apps.mirror.models import Campaign, CampaignStatus, SyncRun
from tests.campaigns.conftest import campaign_url
from tests.factories import CampaignFactory, EmailActivityFactory

HX = {"HTTP_HX_REQUEST": "true"}


def make(world, name: str, *, status=CampaignStatus.DRAFT, created=None, updated=None, **email):
    campaign = CampaignFactory(workspace=world.workspace, name=name, status=status,
                               created_upstream=created, updated_upstream=updated)
    EmailActivityFactory(campaign=campaign, **email)
    return campaign


@pytest.fixture
def mirrored(world):
    return {
        "old": make(world, "Old news", status=CampaignStatus.DONE,
                    created=datetime(2024, 1, 5, 9, 0, tzinfo=UTC),
                    updated=datetime(2024, 1, 6, 9, 0, tzinfo=UTC),
                    sent_at=datetime(2024, 1, 6, 8, 30, tzinfo=UTC)),
        "draft": make(world, "Spring draft", created=datetime(2024, 3, 1, 9, 0, tzinfo=UTC),
                      updated=datetime(2024, 3, 2, 23, 30, tzinfo=UTC)),
        "gone": make(world, "Deleted one", status=CampaignStatus.REMOVED,
                     created=datetime(2024, 2, 1, tzinfo=UTC),
                     updated=datetime(2024, 2, 2, tzinfo=UTC)),
        "soon": make(world, "Summer launch", status=CampaignStatus.SCHEDULED,
                     created=datetime(2024, 4, 1, tzinfo=UTC),
                     updated=datetime(2024, 4, 2, tzinfo=UTC),
                     scheduled_at=datetime(2030, 6, 3, 12, 5, tzinfo=UTC)),
    }


def names(response) -> list[str]:
    html = response.content.decode()
    found = []
    for campaign in Campaign.objects.all():
        at = html.find(f'id="campaign-{campaign.pk}"')
        if at >= 0:
            found.append((at, campaign.name))
    return [name for _, name in sorted(found)]


def test_it_lists_campaigns_newest_change_first_without_deleted_ones(world, mirrored, login):
    response = login(world.viewer).get(campaign_url(world, "campaign_list"))

    assert response.status_code == 200
    assert names(response) == ["Summer launch", "Spring draft", "Old news"]
    assert "deleted ones not shown" in response.content.decode()


def test_it_shows_the_times_in_the_members_time_zone(world, mirrored, login):
    world.viewer.time_zone = "Europe/Paris"
    world.viewer.save()

    html = login(world.viewer).get(campaign_url(world, "campaign_list")).content.decode()

    assert "3 Mar 2024, 00:30" in html  # updated 2 Mar 23:30 UTC
    assert "3 Jun 2030, 14:05" in html  # scheduled 12:05 UTC, summer time in Paris
    assert "6 Jan 2024, 09:30" in html  # sent 08:30 UTC, winter time
    assert 'datetime="2024-03-02T23:30:00+00:00"' in html


@pytest.mark.parametrize("status, expected", [
    ("draft", ["Spring draft"]),
    ("done", ["Old news"]),
    ("removed", ["Deleted one"]),
    ("all", ["Summer launch", "Deleted one", "Spring draft", "Old news"]),
])
def test_it_filters_by_status(world, mirrored, login, status, expected):
    response = login(world.viewer).get(campaign_url(world, "campaign_list"), {"status": status})

    assert names(response) == sorted(expected, key=lambda n: -mirrored_updated(n).timestamp())


def mirrored_updated(name: str) -> datetime:
    return Campaign.objects.get(name=name).updated_upstream


def test_it_searches_by_part_of_the_name(world, mirrored, login):
    response = login(world.viewer).get(campaign_url(world, "campaign_list"), {"q": "SPRING"})

    assert names(response) == ["Spring draft"]
    assert "1 campaign matches." in response.content.decode()


@pytest.mark.parametrize("sort, expected", [
    ("created", ["Old news", "Spring draft", "Summer launch"]),
    ("-created", ["Summer launch", "Spring draft", "Old news"]),
    ("updated", ["Old news", "Spring draft", "Summer launch"]),
])
def test_it_sorts_by_date(world, mirrored, login, sort, expected):
    response = login(world.viewer).get(campaign_url(world, "campaign_list"), {"sort": sort})

    assert names(response) == expected


def test_a_hand_edited_query_shows_the_default_list(world, mirrored, login):
    response = login(world.viewer).get(campaign_url(world, "campaign_list"),
                                       {"status": "bogus", "sort": "nonsense"})

    assert response.status_code == 200
    assert names(response) == ["Summer launch", "Spring draft", "Old news"]


def test_htmx_gets_only_the_results(world, mirrored, login):
    response = login(world.viewer).get(campaign_url(world, "campaign_list"), {"q": "old"}, **HX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="campaign-results">')
    assert "<h1>" not in html
    assert names(response) == ["Old news"]


def test_it_pages_through_many_campaigns(world, login):
    for i in range(55):
        make(world, f"Campaign {i:02}", updated=datetime(2024, 1, 1, 0, i, tzinfo=UTC))

    first = login(world.viewer).get(campaign_url(world, "campaign_list"))
    second = login(world.viewer).get(campaign_url(world, "campaign_list"), {"page": 2})

    assert len(names(first)) == 50 and names(first)[0] == "Campaign 54"
    assert names(second) == [f"Campaign {i:02}" for i in range(4, -1, -1)]
    assert "Page 2 of 2" in second.content.decode()


def test_an_editor_gets_new_campaign_and_sync_now_a_viewer_does_not(world, mirrored, login):
    editor_html = login(world.editor).get(campaign_url(world, "campaign_list")).content.decode()
    assert campaign_url(world, "campaign_create") in editor_html
    assert campaign_url(world, "campaign_sync") in editor_html

    viewer_html = login(world.viewer).get(campaign_url(world, "campaign_list")).content.decode()
    assert campaign_url(world, "campaign_create") not in viewer_html
    assert campaign_url(world, "campaign_sync") not in viewer_html
    assert "Never synced" in viewer_html


def test_an_outsider_gets_404(world, login):
    response = login(world.outsider).get(campaign_url(world, "campaign_list"))

    assert response.status_code == 404


def test_a_member_without_campaigns_read_gets_403(world, login):
    role = world.roles["viewer"]
    role.grants = {**role.grants, "campaigns": "none"}
    role.save()

    assert login(world.viewer).get(campaign_url(world, "campaign_list")).status_code == 403


# --- Sync now -----------------------------------------------------------------------

def test_sync_now_runs_a_sync_and_the_list_says_how_fresh_it_is(
        connected_world, login, django_capture_on_commit_callbacks):
    client = login(connected_world.editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(campaign_url(connected_world, "campaign_sync"))

    assert response.status_code == 302
    run = SyncRun.objects.get(scope="campaigns")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.requested_by == connected_world.editor
    assert run.kind == SyncRun.Kind.FULL  # the first one reads everything
    html = client.get(campaign_url(connected_world, "campaign_list")).content.decode()
    assert "Synced <time" in html and "just now" in html
    assert "Spring Launch" in html


def test_sync_now_while_one_runs_says_so(connected_world, login):
    from apps.campaigns.services.sync import campaigns_sync_start

    campaigns_sync_start(workspace=connected_world.workspace, kind="full",
                         membership=connected_world.membership("admin"))
    client = login(connected_world.editor)

    response = client.post(campaign_url(connected_world, "campaign_sync"), follow=True)

    assert "already running" in response.content.decode()
    assert SyncRun.objects.filter(scope="campaigns").count() == 1


def test_the_freshness_line_polls_while_a_sync_runs_and_stops_after(connected_world, login):
    from apps.campaigns.services.sync import campaigns_sync_start

    run, _ = campaigns_sync_start(workspace=connected_world.workspace, kind="full",
                                  membership=connected_world.membership("admin"))
    client = login(connected_world.viewer)
    page = client.get(campaign_url(connected_world, "campaign_list")).content.decode()
    assert campaign_url(connected_world, "campaign_sync_status") in page
    assert "Syncing now" in page

    still = client.get(campaign_url(connected_world, "campaign_sync_status"), **HX)
    assert still.status_code == 200

    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = run.created_at
    run.save()
    done = client.get(campaign_url(connected_world, "campaign_sync_status"), **HX)
    assert done.status_code == 286
    assert "Show the updated list" in done.content.decode()


def test_sync_now_without_a_connection_is_a_message_not_an_error(world, login):
    response = login(world.editor).post(campaign_url(world, "campaign_sync"), follow=True)

    assert response.status_code == 200
    assert "not connected" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_a_viewer_cannot_start_a_sync(world, login):
    assert login(world.viewer).post(campaign_url(world, "campaign_sync")).status_code == 403


def test_a_member_of_another_workspace_sees_none_of_these_campaigns(world, mirrored, login):
    response = login(world.outsider).get(
        reverse("campaigns:campaign_list", kwargs={"workspace_slug": world.other_workspace.slug})
    )

    assert response.status_code == 200
    assert names(response) == []
