"""The sync screen: who sees what, starting a sync (write access only), the
polled progress partial that stops with 286, the schedule, and the freshness
line every contacts-area page includes."""

from datetime import UTC, datetime, timedelta

from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
import pytest

from apps.mirror.models import SyncAnomaly, SyncRun
from apps.mirror.selectors.runs import sync_freshness, sync_schedule
from tests.factories import SyncRunFactory


def url(world, name="sync", **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})


@pytest.fixture
def as_user(client):
    def login(world, who: str):
        client.force_login(world.user(who))
        return client
    return login


# --- the page ------------------------------------------------------------------------

def test_a_viewer_sees_the_runs_but_no_buttons(connected_world, run_sync, as_user):
    run_sync("full")

    page = as_user(connected_world, "viewer").get(url(connected_world))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Recent syncs" in html and "Succeeded" in html
    assert url(connected_world, "sync_start") not in html
    assert "Sync details" in html  # the freshness line's link, not "Sync now"


def test_an_editor_sees_sync_now_and_full_sync(connected_world, as_user):
    page = as_user(connected_world, "editor").get(url(connected_world))

    html = page.content.decode()
    assert url(connected_world, "sync_start") in html
    assert ">Sync now</button>" in html and ">Full sync</button>" in html
    assert "Never synced" in html
    assert "No sync has run yet" in html


def test_the_page_shows_each_run_with_counts_calls_and_errors(connected_world, as_user):
    SyncRunFactory(
        workspace=connected_world.workspace, status=SyncRun.Status.FAILED,
        started_at=timezone.now(), finished_at=timezone.now(), processed=1500,
        created_count=1200, updated_count=7, deleted_count=3, api_calls=6,
        error="Constant Contact is busy.", requested_by=connected_world.editor,
    )

    html = as_user(connected_world, "viewer").get(url(connected_world)).content.decode()

    for text in ("1,500", "1,200", "Constant Contact is busy.", "editor@example.com", "Failed"):
        assert text in html


def test_the_schedule_says_when_the_next_sync_runs(connected_world, as_user, settings):
    settings.CCADMIN_CONTACTS_SYNC_MINUTES = 15
    before = sync_schedule(scope="contacts").next_at

    html = as_user(connected_world, "viewer").get(url(connected_world)).content.decode()

    # The same as before, unless a quarter hour struck meanwhile.
    after = sync_schedule(scope="contacts").next_at
    assert "every 15 minutes" in html
    assert any(
        f"around <time datetime=\"{at.isoformat()}\">{at:%H:%M} UTC" in html
        for at in (before, after)
    )


def test_the_next_scheduled_sync_is_the_next_multiple_of_the_interval():
    at = datetime(2025, 3, 1, 10, 7, 30, tzinfo=UTC)
    assert (sync_schedule(scope="contacts", now=at).next_at
            == datetime(2025, 3, 1, 10, 15, tzinfo=UTC))
    late = datetime(2025, 3, 1, 23, 50, tzinfo=UTC)
    assert (sync_schedule(scope="contacts", now=late).next_at
            == datetime(2025, 3, 2, 0, 0, tzinfo=UTC))


def test_outsiders_get_404(connected_world, as_user):
    assert as_user(connected_world, "outsider").get(url(connected_world)).status_code == 404


def test_an_unconnected_workspace_says_nothing_is_synced(world, client):
    client.force_login(world.editor)

    html = client.get(url(world)).content.decode()

    assert "until an admin connects" in html
    assert "disabled" in html


def test_the_page_lists_what_the_last_sync_could_not_mirror(connected_world, as_user):
    run = SyncRunFactory(workspace=connected_world.workspace, status=SyncRun.Status.SUCCEEDED,
                         started_at=timezone.now(), finished_at=timezone.now())
    SyncAnomaly.objects.create(sync_run=run, cc_id="cc-clipped", field="job_title",
                               problem="has 60 characters, more than the 50 the mirror keeps; "
                               "clipped")
    SyncAnomaly.objects.create(sync_run=run, cc_id="cc-held",
                               field="email_address.permission_to_send",
                               problem="is not one of Constant Contact's permission values",
                               quarantined=True)
    SyncAnomaly.objects.create(sync_run=run, cc_id="", field="contact_id", problem="is missing",
                               quarantined=True)

    html = as_user(connected_world, "viewer").get(url(connected_world)).content.decode()

    assert "Not mirrored as sent" in html
    assert "<strong>2 records</strong>" in html and "<strong>1 value</strong>" in html
    for text in ("cc-clipped", "job_title", "more than the 50 the mirror keeps", "cc-held",
                 "email_address.permission_to_send", "none sent", "is missing"):
        assert text in html, text
    # Records left out come first: they are what a member must fix to see them at all.
    assert html.index("cc-held") < html.index("cc-clipped")


def test_the_page_shows_only_the_latest_runs_anomalies(connected_world, as_user):
    earlier = SyncRunFactory(workspace=connected_world.workspace,
                             status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())
    SyncAnomaly.objects.create(sync_run=earlier, cc_id="cc-old", field="job_title",
                               problem="clipped")
    SyncRunFactory(workspace=connected_world.workspace, status=SyncRun.Status.SUCCEEDED,
                   finished_at=timezone.now())

    html = as_user(connected_world, "viewer").get(url(connected_world)).content.decode()

    assert "Not mirrored as sent" not in html and "cc-old" not in html


# --- starting ------------------------------------------------------------------------

def test_a_viewer_cannot_start_a_sync(connected_world, as_user):
    answer = as_user(connected_world, "viewer").post(url(connected_world, "sync_start"),
                                                     {"kind": "full"})

    assert answer.status_code == 403
    assert not SyncRun.objects.exists()


def test_an_editor_starts_a_sync_and_lands_on_its_progress(
    connected_world, as_user, django_capture_on_commit_callbacks
):
    client = as_user(connected_world, "editor")
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url(connected_world, "sync_start"), {"kind": "incremental"},
                             follow=True)

    assert answer.redirect_chain[-1][0] == url(connected_world)
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.SUCCEEDED
    html = answer.content.decode()
    # Nothing to be incremental from yet: the first "Sync now" reads everything and
    # says so (it used to say "Incremental sync started" for what ran as a full sync).
    assert run.kind == SyncRun.Kind.FULL
    assert "Full sync started." in html and "Incremental sync started." not in html


def test_sync_now_after_a_first_sync_is_incremental(
    connected_world, run_sync, as_user, django_capture_on_commit_callbacks
):
    run_sync("full")
    client = as_user(connected_world, "editor")
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url(connected_world, "sync_start"), {"kind": "incremental"},
                             follow=True)

    assert SyncRun.objects.latest("pk").kind == SyncRun.Kind.INCREMENTAL
    assert "Incremental sync started." in answer.content.decode()


def test_a_second_start_while_one_runs_shows_the_running_one(connected_world, as_user):
    client = as_user(connected_world, "editor")
    client.post(url(connected_world, "sync_start"), {"kind": "full"})  # queued, not run

    answer = client.post(url(connected_world, "sync_start"), {"kind": "full"}, follow=True)

    assert SyncRun.objects.count() == 1
    html = answer.content.decode()
    assert "already running" in html
    assert 'hx-trigger="every 3s"' in html


def test_an_unknown_kind_is_refused_with_a_message(connected_world, as_user):
    answer = as_user(connected_world, "editor").post(url(connected_world, "sync_start"),
                                                      {"kind": "everything"}, follow=True)

    assert "Choose an incremental or a full sync." in answer.content.decode()
    assert not SyncRun.objects.exists()


def test_starting_without_a_connection_says_why(world, client):
    client.force_login(world.editor)

    answer = client.post(url(world, "sync_start"), {"kind": "full"}, follow=True)

    assert "not connected to Constant Contact" in answer.content.decode()
    assert not SyncRun.objects.exists()


def test_start_only_accepts_post(connected_world, as_user):
    assert as_user(connected_world, "editor").get(
        url(connected_world, "sync_start")
    ).status_code == 405


# --- the progress partial ------------------------------------------------------------

def test_the_progress_partial_keeps_polling_while_the_run_is_running(connected_world, as_user):
    run = SyncRunFactory(workspace=connected_world.workspace, status=SyncRun.Status.RUNNING,
                         phase="contacts", processed=500, total_expected=1203, api_calls=4)

    answer = as_user(connected_world, "viewer").get(
        url(connected_world, "sync_status", run_id=run.pk), HTTP_HX_REQUEST="true"
    )

    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'hx-trigger="every 3s"' in html
    assert '<progress id="sync-progress" max="1203" value="500">' in html
    assert "<html" not in html  # only the fragment


def test_the_progress_partial_answers_286_once_the_run_is_done(
    connected_world, run_sync, as_user
):
    run = run_sync("full")

    answer = as_user(connected_world, "viewer").get(
        url(connected_world, "sync_status", run_id=run.pk), HTTP_HX_REQUEST="true"
    )

    assert answer.status_code == 286
    html = answer.content.decode()
    assert "Succeeded" in html and "hx-trigger" not in html


def test_the_final_answer_updates_the_whole_screen_so_it_never_contradicts_itself(
    connected_world, as_user, django_capture_on_commit_callbacks
):
    # The page as it was while the first sync ran ...
    client = as_user(connected_world, "editor")
    with django_capture_on_commit_callbacks() as queued:
        client.post(url(connected_world, "sync_start"), {"kind": "full"})
    run = SyncRun.objects.get()
    during = client.get(url(connected_world)).content.decode()
    assert "Syncing now" in during and "the first sync is reading everything" in during
    # ... and the poll's answer once it has succeeded.
    for start_the_task in queued:
        start_the_task()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error

    answer = client.get(url(connected_world, "sync_status", run_id=run.pk),
                        HTTP_HX_REQUEST="true")

    assert answer.status_code == 286
    html = answer.content.decode()
    assert html.lstrip().startswith('<div id="sync-live"')
    # The freshness line, the run and the recent runs all say it finished.
    assert "Syncing now" not in html and "Never synced" not in html
    assert "Synced <time" in html
    assert "Running" not in html and "Queued" not in html
    assert html.count("Succeeded") == 2  # the run's badge and its row


def test_another_workspaces_run_is_404(connected_world, as_user):
    theirs = SyncRunFactory(workspace=connected_world.other_workspace)

    answer = as_user(connected_world, "viewer").get(
        url(connected_world, "sync_status", run_id=theirs.pk)
    )

    assert answer.status_code == 404


# --- freshness -----------------------------------------------------------------------

def render_freshness(world, who="viewer") -> str:
    request = RequestFactory().get("/")
    membership = world.workspace.memberships.select_related("role").get(user=world.user(who))
    request.workspace, request.membership = world.workspace, membership
    request.role = membership.role
    request.user = world.user(who)
    template = engines["django"].from_string('{% include "contacts/_freshness.html" %}')
    return template.render({"request": request}, request)


def test_freshness_says_never_synced_before_the_first_sync(connected_world):
    assert "Never synced" in render_freshness(connected_world)
    assert sync_freshness(workspace=connected_world.workspace, scope="contacts").never_synced


def test_freshness_says_how_long_ago_the_last_sync_finished(connected_world):
    SyncRunFactory(
        workspace=connected_world.workspace, status=SyncRun.Status.SUCCEEDED,
        finished_at=timezone.now() - timedelta(minutes=4, seconds=10),
    )

    html = render_freshness(connected_world, who="editor")

    assert "Synced" in html and "4\xa0minutes ago" in html
    assert "Sync now" in html
    assert url(connected_world) in html


def test_freshness_mentions_a_running_sync_and_a_failed_last_one(connected_world):
    SyncRunFactory(workspace=connected_world.workspace, kind="full",
                   status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())
    SyncRunFactory(workspace=connected_world.workspace, kind="incremental",
                   status=SyncRun.Status.FAILED, finished_at=timezone.now())
    assert "the last sync failed" in render_freshness(connected_world)

    SyncRunFactory(workspace=connected_world.workspace, kind="incremental",
                   status=SyncRun.Status.RUNNING)
    assert "Syncing now" in render_freshness(connected_world)
