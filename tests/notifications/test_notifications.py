"""The notifications floor: `notify` with the member's choices, emails after the
commit, the in-app list with its unread count, marking read, and the settings
page — each scoped to the member."""

import pytest
from django.core import mail
from django.urls import reverse

from apps.notifications.kinds import Kind
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import Message, notify


@pytest.fixture
def send(world, django_capture_on_commit_callbacks):
    def run(*messages, url="/w/acme/campaigns/1/"):
        with django_capture_on_commit_callbacks(execute=True):
            return notify(workspace=world.workspace, url=url, messages=list(messages))
    return run


def review(*people, title="Review requested: Spring sale"):
    return Message(kind=Kind.REVIEW_REQUESTED, recipients=people, title=title,
                   body="Ann asked for a review.")


def test_it_records_and_emails_after_the_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(workspace=world.workspace, url="/x/", messages=[review(world.approver)])
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    callbacks[0]()

    assert [m.to for m in mail.outbox] == [["approver@example.com"]]
    assert mail.outbox[0].subject == "[Acme Marketing] Review requested: Spring sale"
    row = Notification.objects.get()
    assert row.email_status == Notification.Email.SENT and row.emailed_at is not None


def test_everything_is_on_by_default_and_each_choice_is_kept(world, send):
    NotificationPreference.objects.create(user=world.admin, kind=Kind.REVIEW_REQUESTED,
                                          email=False, in_app=True)
    NotificationPreference.objects.create(user=world.editor, kind=Kind.REVIEW_REQUESTED,
                                          email=True, in_app=False)
    NotificationPreference.objects.create(user=world.viewer, kind=Kind.REVIEW_REQUESTED,
                                          email=False, in_app=False)

    send(review(world.approver, world.admin, world.editor, world.viewer))

    assert sorted(m.to[0] for m in mail.outbox) == ["approver@example.com",
                                                   "editor@example.com"]
    rows = {n.user: n for n in Notification.objects.all()}
    assert set(rows) == {world.approver, world.admin, world.editor}
    assert rows[world.admin].email_status == Notification.Email.OFF
    assert rows[world.editor].in_app is False


def test_a_person_named_twice_hears_once(world, send):
    send(review(world.approver), Message(kind=Kind.READY_TO_SEND, recipients=[world.approver],
                                         title="Ready", body=""))

    assert Notification.objects.filter(user=world.approver).count() == 1
    assert len(mail.outbox) == 1


def test_a_turned_off_kind_lets_the_next_one_through(world, send):
    NotificationPreference.objects.create(user=world.approver, kind=Kind.REVIEW_REQUESTED,
                                          email=False, in_app=False)

    send(review(world.approver), Message(kind=Kind.READY_TO_SEND, recipients=[world.approver],
                                         title="Ready", body=""))

    assert Notification.objects.get(user=world.approver).kind == Kind.READY_TO_SEND


def test_inactive_people_get_nothing(world, send):
    world.approver.is_active = False
    world.approver.save()

    send(review(world.approver))

    assert not Notification.objects.exists() and mail.outbox == []


def test_a_failed_email_is_kept_in_the_app_and_logged_without_the_address(world, send, client,
                                                                         settings, caplog):
    settings.EMAIL_BACKEND = "tests.notifications.broken_backend.BrokenBackend"
    NotificationPreference.objects.create(user=world.approver, kind=Kind.REVIEW_REQUESTED,
                                          email=True, in_app=False)

    send(review(world.approver))

    row = Notification.objects.get()
    assert row.email_status == Notification.Email.FAILED
    assert "approver@example.com" not in caplog.text and "Spring sale" not in caplog.text
    assert "ConnectionRefusedError" in caplog.text
    # Email only was chosen, but the email failed: the list keeps it, and says so.
    client.force_login(world.approver)
    html = client.get(reverse("notifications:list")).content.decode()
    assert "Review requested: Spring sale" in html and "could not be sent" in html


# --- The list, the count and marking read ------------------------------------------

def page(client) -> str:
    return client.get(reverse("notifications:list")).content.decode()


def test_the_list_shows_mine_only_with_the_unread_count(world, send, client):
    send(review(world.approver, title="Review requested: Mine"))
    send(review(world.admin, title="Review requested: Someone else's"))
    client.force_login(world.approver)

    html = page(client)

    assert "Review requested: Mine" in html
    assert "Someone else" not in html
    topbar = html.split('class="topbar-notifications"')[1].split("</a>")[0]
    assert ">1<" in topbar and "unread" in topbar


def test_opening_marks_read_and_goes_to_the_campaign(world, send, client):
    [row] = send(review(world.approver), url="/w/acme/campaigns/7/review/")
    client.force_login(world.approver)

    answer = client.post(reverse("notifications:open", args=[row.pk]))

    assert answer.status_code == 302 and answer["Location"] == "/w/acme/campaigns/7/review/"
    row.refresh_from_db()
    assert row.read_at is not None
    topbar = page(client).split('class="topbar-notifications"')[1].split("</a>")[0]
    assert topbar.endswith(">Notifications")  # no unread count left


def test_an_outside_link_is_never_followed(world, send, client):
    [row] = send(review(world.approver), url="https://evil.example/")
    client.force_login(world.approver)

    answer = client.post(reverse("notifications:open", args=[row.pk]))

    assert answer["Location"] == reverse("notifications:list")


def test_nobody_opens_anothers_notification(world, send, client):
    [row] = send(review(world.approver))
    client.force_login(world.admin)

    assert client.post(reverse("notifications:open", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_opening_needs_a_post(world, send, client):
    [row] = send(review(world.approver))
    client.force_login(world.approver)

    assert client.get(reverse("notifications:open", args=[row.pk])).status_code == 405


def test_mark_all_read(world, send, client):
    send(review(world.approver, title="One"))
    send(review(world.approver, title="Two"))
    send(review(world.admin, title="Not mine"))
    client.force_login(world.approver)

    client.post(reverse("notifications:read_all"))

    assert not Notification.objects.filter(user=world.approver, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=world.admin, read_at__isnull=True).exists()


def test_a_former_member_no_longer_sees_that_workspaces_notifications(world, send, client):
    send(review(world.approver))
    world.approver.memberships.all().delete()
    client.force_login(world.approver)

    html = page(client)

    assert "No notifications yet" in html


def test_the_list_needs_a_login(client):
    answer = client.get(reverse("notifications:list"))

    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


# --- Settings ----------------------------------------------------------------------

def test_the_settings_page_saves_each_choice(world, client):
    client.force_login(world.approver)
    form = client.get(reverse("notification_preferences")).content.decode()
    assert "A campaign waits for my review" in form
    assert 'name="review_requested__email"' in form and "checked" in form

    data = {f"{kind.value}__{channel}": "on" for kind in Kind for channel in ("email", "in_app")}
    del data["review_requested__email"]
    del data["approved__email"]
    del data["approved__in_app"]
    answer = client.post(reverse("notification_preferences"), data)

    assert answer.status_code == 302
    saved = {(p.kind, p.email, p.in_app) for p in
             NotificationPreference.objects.filter(user=world.approver)}
    assert saved == {("review_requested", False, True), ("approved", False, False)}


def test_turning_everything_back_on_keeps_no_rows(world, client):
    NotificationPreference.objects.create(user=world.approver, kind=Kind.APPROVED,
                                          email=False, in_app=False)
    client.force_login(world.approver)
    data = {f"{kind.value}__{channel}": "on" for kind in Kind for channel in ("email", "in_app")}

    client.post(reverse("notification_preferences"), data)

    assert not NotificationPreference.objects.exists()
