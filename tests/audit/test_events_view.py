"""The audit log screen: who may read it, what it shows, its filters and its pages."""

import re

import pytest

from apps.audit.models import AuditEvent, Outcome
from apps.audit.receivers import UNKNOWN_ACCOUNT
from apps.audit.selectors import Cursor
from tests.audit.conftest import T0, make_event
from tests.factories import MembershipFactory


def shown(response) -> list[AuditEvent]:
    return list(response.context["page"].events)


def shown_actions(response) -> list[str]:
    return [event.action for event in shown(response)]


# --- Access -------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_sign_in(client, world, events_url):
    response = client.get(events_url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("member", ["editor", "approver", "viewer"])
def test_it_refuses_members_without_account_write(client, world, events_url, member):
    client.force_login(world.user(member))

    assert client.get(events_url).status_code == 403


def test_it_hides_the_workspace_from_outsiders(client, world, events_url):
    client.force_login(world.outsider)

    assert client.get(events_url).status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_offers_no_way_to_change_the_log(admin_client, events_url, method):
    response = getattr(admin_client, method)(events_url)

    assert response.status_code == 405


def test_the_page_has_no_edit_or_delete_controls(admin_client, world, events_url):
    make_event(actor=world.admin, workspace=world.workspace)

    response = admin_client.get(events_url)

    post_actions = re.findall(rb'<form[^>]*method="post"[^>]*action="([^"]*)"', response.content)
    assert post_actions == [b"/accounts/logout/"]  # the user menu's, and nothing else


# --- What it shows ------------------------------------------------------------------------


def test_it_shows_the_workspace_events_newest_first(admin_client, world, events_url, minutes):
    ws = world.workspace
    make_event(action="contact.created", actor=world.editor, workspace=ws, at=minutes(1))
    make_event(action="contact.deleted", actor=world.editor, workspace=ws, at=minutes(2))

    response = admin_client.get(events_url, {"action": "contact."})

    assert response.status_code == 200
    assert shown_actions(response) == ["contact.deleted", "contact.created"]


def test_it_never_shows_another_workspaces_events(admin_client, world, events_url):
    make_event(action="secret.thing", actor=world.outsider, workspace=world.other_workspace,
               target="their list")
    make_event(action="login.succeeded", actor=world.outsider, target=world.outsider.email)
    make_event(action="login.failed", target=world.outsider.email, outcome=Outcome.FAILURE)
    make_event(action="login.failed", target=UNKNOWN_ACCOUNT, outcome=Outcome.FAILURE)

    response = admin_client.get(events_url)

    assert all(e.workspace in (world.workspace, None) for e in shown(response))
    assert b"secret.thing" not in response.content
    assert b"their list" not in response.content
    assert b"outsider@example.com" not in response.content
    assert UNKNOWN_ACCOUNT.encode() not in response.content


def test_it_shows_members_sign_ins_which_belong_to_no_workspace(admin_client, world, events_url):
    make_event(action="login.succeeded", actor=world.editor, target=world.editor.email)
    make_event(action="login.failed", target=world.viewer.email, outcome=Outcome.FAILURE)

    response = admin_client.get(events_url)

    assert {"login.succeeded", "login.failed"} <= set(shown_actions(response))


def test_a_member_of_two_workspaces_has_their_sign_ins_in_both(client, world):
    MembershipFactory(workspace=world.other_workspace, user=world.editor)
    make_event(action="login.succeeded", actor=world.editor, target=world.editor.email)
    make_event(action="contact.created", actor=world.editor, workspace=world.workspace)
    client.force_login(world.outsider)

    response = client.get(f"/w/{world.other_workspace.slug}/audit/")

    assert "login.succeeded" in shown_actions(response)
    assert "contact.created" not in shown_actions(response)


def test_times_are_shown_in_the_members_time_zone_with_utc_in_the_title(
        admin_client, world, events_url):
    world.admin.time_zone = "Europe/Paris"
    world.admin.save()
    make_event(actor=world.admin, workspace=world.workspace)

    response = admin_client.get(events_url)

    # 12:00 UTC on 10 March 2025 is 13:00 in Paris.
    assert (b'<time datetime="2025-03-10T12:00:00+00:00" title="10 Mar 2025, 12:00 UTC">'
            b"10 Mar 2025, 13:00</time>") in response.content
    assert b"Times are in your time zone (Europe/Paris)" in response.content


def test_details_are_shown_compactly(admin_client, world, events_url):
    make_event(actor=world.admin, workspace=world.workspace,
               details={"status": 409, "fields": ["email", "name"]})

    response = admin_client.get(events_url)

    assert b'<span class="muted">status</span> 409' in response.content
    fields = b'<span class="muted">fields</span> [&quot;email&quot;,&quot;name&quot;]'
    assert fields in response.content


def test_an_empty_log_says_so(admin_client, world, events_url):
    response = admin_client.get(events_url + "?action=campaign.sent")

    assert shown(response) == []
    assert b"No events match" in response.content


# --- Filters ------------------------------------------------------------------------------


@pytest.fixture
def mixed_log(world, minutes):
    ws = world.workspace
    make_event(action="login.succeeded", actor=world.editor, target=world.editor.email,
               at=minutes(1))
    make_event(action="login.failed", target=world.viewer.email, outcome=Outcome.FAILURE,
               at=minutes(2))
    make_event(action="contact.updated", actor=world.editor, workspace=ws, at=minutes(60 * 24))
    make_event(action="campaign.scheduled", actor=world.approver, workspace=ws,
               outcome=Outcome.DENIED, at=minutes(60 * 48))


def test_it_filters_by_exact_action(admin_client, events_url, mixed_log):
    response = admin_client.get(events_url, {"action": "login.failed"})

    assert shown_actions(response) == ["login.failed"]


def test_it_filters_by_action_family(admin_client, events_url, mixed_log):
    response = admin_client.get(events_url, {"action": "login."})

    assert shown_actions(response) == ["login.failed", "login.succeeded"]


def test_a_bookmarked_action_with_no_events_yet_is_not_an_error(admin_client, events_url):
    response = admin_client.get(events_url, {"action": "login.locked_out"})

    assert response.context["form"].is_valid()
    assert shown(response) == []


def test_it_filters_by_outcome(admin_client, events_url, mixed_log):
    response = admin_client.get(events_url, {"outcome": "denied"})

    assert shown_actions(response) == ["campaign.scheduled"]


def test_it_filters_by_member_including_attempts_on_their_account(
    admin_client, world, events_url, mixed_log
):
    editor = admin_client.get(events_url, {"member": world.editor.pk})
    viewer = admin_client.get(events_url, {"member": world.viewer.pk})

    assert shown_actions(editor) == ["contact.updated", "login.succeeded"]
    assert shown_actions(viewer) == ["login.failed"]


def test_it_filters_by_actor_email_text(admin_client, events_url, mixed_log):
    response = admin_client.get(events_url, {"actor": "APPROVER@"})

    assert shown_actions(response) == ["campaign.scheduled"]


def test_it_filters_by_utc_dates_inclusively(admin_client, events_url, mixed_log):
    first_day = admin_client.get(
        events_url, {"date_from": "2025-03-10", "date_to": "2025-03-10"}
    )
    later = admin_client.get(events_url, {"date_from": "2025-03-11", "date_to": "2025-03-31"})

    assert shown_actions(first_day) == ["login.failed", "login.succeeded"]
    assert shown_actions(later) == ["campaign.scheduled", "contact.updated"]


def test_filters_combine(admin_client, world, events_url, mixed_log):
    response = admin_client.get(
        events_url, {"member": world.editor.pk, "action": "contact.", "date_to": "2025-03-11"}
    )

    assert shown_actions(response) == ["contact.updated"]


@pytest.mark.parametrize(
    "params",
    [
        {"outcome": "maybe"},
        {"date_from": "yesterday"},
        {"date_from": "2025-02-30"},
        {"date_to": "9999-12-31"},
        {"date_from": "2025-03-12", "date_to": "2025-03-10"},
        {"member": "999999"},
        {"member": "not-a-number"},
        {"action": "'; DROP TABLE audit_auditevent; --"},
        {"before": "garbage"},
        {"after": "1-2-3"},
        {"before": "99999999999999999999-1"},
        {"before": f"{Cursor(occurred_at=T0, id=1).encode()}", "after": "1-1"},
    ],
)
def test_invalid_filters_are_a_form_error_not_a_crash(admin_client, events_url, mixed_log, params):
    response = admin_client.get(events_url, params)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert b"Some filters need fixing" in response.content
    assert shown(response) == []


def test_the_member_filter_offers_only_members(admin_client, world, events_url):
    response = admin_client.get(events_url)

    choices = response.context["form"].fields["member"].queryset
    assert world.outsider not in choices
    assert set(choices) == {world.admin, world.editor, world.approver, world.viewer}


def test_the_action_filter_offers_actions_of_this_workspace_only(
    admin_client, world, events_url, mixed_log
):
    make_event(action="secret.thing", actor=world.outsider, workspace=world.other_workspace)

    response = admin_client.get(events_url)

    html = response.content.decode()
    assert 'value="login.failed"' in html
    assert 'value="login."' in html
    assert "secret.thing" not in html


# --- htmx ---------------------------------------------------------------------------------


def test_htmx_filtering_returns_just_the_results(admin_client, events_url, mixed_log):
    response = admin_client.get(events_url, {"outcome": "denied"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert response.content.lstrip().startswith(b'<div id="audit-results">')
    assert b"campaign.scheduled" in response.content
    assert "HX-Request" in response["Vary"]


def test_htmx_shows_filter_errors_inside_the_results(admin_client, events_url):
    response = admin_client.get(events_url, {"date_from": "nope"}, HTTP_HX_REQUEST="true")

    assert b"<html" not in response.content
    assert b"From (UTC): Enter a valid date." in response.content


def test_a_boosted_navigation_gets_the_whole_page(admin_client, events_url):
    response = admin_client.get(events_url, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")

    assert b"<html" in response.content


def test_the_filter_form_works_with_and_without_javascript(admin_client, events_url):
    response = admin_client.get(events_url)

    html = response.content.decode()
    assert f'<form method="get" action="{events_url}"' in html
    assert f'hx-get="{events_url}" hx-target="#audit-results"' in html
    assert 'hx-push-url="true"' in html


# --- Pages --------------------------------------------------------------------------------


@pytest.fixture
def long_log(world, minutes):
    # 120 events, many sharing a timestamp, so the id must break ties.
    return [
        make_event(action=f"contact.n{i:03d}", actor=world.editor, workspace=world.workspace,
                   at=minutes(i // 7))
        for i in range(120)
    ]


def test_pages_hold_fifty_events_and_walk_older_without_gaps(admin_client, events_url, long_log):
    seen, params, pages = [], {"action": "contact."}, 0
    while True:
        response = admin_client.get(events_url, params)
        seen += shown(response)
        pages += 1
        older = response.context["page"].older
        if older is None:
            break
        params = {"action": "contact.", "before": older.encode()}

    assert pages == 3
    newest_first = sorted(long_log, key=lambda e: (e.occurred_at, e.pk), reverse=True)
    assert [e.pk for e in seen] == [e.pk for e in newest_first]


def test_newer_leads_back_to_the_previous_page(admin_client, events_url, long_log):
    first = admin_client.get(events_url, {"action": "contact."})
    second = admin_client.get(
        events_url, {"action": "contact.", "before": first.context["page"].older.encode()}
    )

    back = admin_client.get(
        events_url, {"action": "contact.", "after": second.context["page"].newer.encode()}
    )

    assert shown(back) == shown(first)
    assert back.context["page"].newer is None
    assert first.context["page"].newer is None


def test_page_links_keep_the_filters(admin_client, events_url, long_log):
    response = admin_client.get(events_url, {"action": "contact."})

    assert b'href="?action=contact.&amp;before=' in response.content
    assert b"Older" in response.content
    assert b"Newer" not in response.content


def test_the_export_link_carries_the_filters(admin_client, events_url, export_url, mixed_log):
    response = admin_client.get(events_url, {"outcome": "denied"})

    assert f'href="{export_url}?outcome=denied"'.encode() in response.content
