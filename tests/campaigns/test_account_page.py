"""The account page against the simulator: the summary, the physical address and
the sender addresses with their verification status, read through the gate as
the member, cached a few minutes per workspace, refreshed on request; who may
see it; and what an unavailable upstream looks like."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
import pytest

from apps.audit.models import AuditEvent
from apps.campaigns.selectors.account import CACHE_SECONDS, account_snapshot_cached

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def sim_contacts() -> int:
    return 0  # the account and its senders are always seeded; no contacts needed


def url(cw, name: str = "account") -> str:
    return reverse(f"campaigns:{name}", kwargs={"workspace_slug": cw.workspace.slug})


def reads(cw, action: str = "cc.account.summary_get", who: str = "viewer") -> int:
    """Calls made for `who` (connecting the workspace read the summary as the admin)."""
    return AuditEvent.objects.filter(action=action, actor=cw.user(who)).count()


@pytest.fixture
def as_viewer(client, connected_world):
    client.force_login(connected_world.viewer)
    return client


def test_it_shows_the_summary_and_the_physical_address(as_viewer, connected_world):
    response = as_viewer.get(url(connected_world))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("ccsim Demo Co", "owner@ccsim-demo.example", "617-555-0100",
                 "https://ccsim-demo.example", "US/Eastern", "a07e1simdemo", "Demo Owner",
                 "1 Main St", "Suite 100", "Boston MA 02108"):
        assert text in html, text


def test_it_lists_the_sender_addresses_with_their_status_confirmed_first(as_viewer,
                                                                         connected_world):
    html = as_viewer.get(url(connected_world)).content.decode()
    assert "Only <strong>confirmed</strong> addresses can send campaigns" in html
    assert "3 of 4 addresses are confirmed" in html
    assert html.count("badge-success\">Confirmed") == 3
    assert html.count("badge-pending\">Unconfirmed") == 1
    assert "Contact, Billing" in html and "Reply-to" in html
    # Confirmed ones first: the unconfirmed address comes after every confirmed one.
    assert html.index("unverified@ccsim-demo.example") > html.index("support@ccsim-demo.example")


def test_the_reads_are_made_as_the_member(as_viewer, connected_world):
    as_viewer.get(url(connected_world))
    for action in ("cc.account.summary_get", "cc.account.emails_list"):
        event = AuditEvent.objects.filter(action=action).latest("pk")
        assert event.actor == connected_world.viewer
        assert event.outcome == "success"


def test_confirm_times_are_shown_in_the_members_time_zone(as_viewer, connected_world):
    viewer = connected_world.viewer
    viewer.time_zone = "Asia/Tokyo"
    viewer.save(update_fields=["time_zone"])
    html = as_viewer.get(url(connected_world)).content.decode()
    assert "JST" in html


def test_browsing_again_reads_the_cache_not_constant_contact(as_viewer, connected_world):
    as_viewer.get(url(connected_world))
    as_viewer.get(url(connected_world))
    response = as_viewer.get(url(connected_world))
    assert reads(connected_world) == 1
    assert reads(connected_world, "cc.account.emails_list") == 1
    fetched = response.context["snapshot"].fetched_at
    assert f">{timezone.localtime(fetched).strftime('%H:%M')}</time>" in response.content.decode()
    assert "As of" in response.content.decode()


def test_the_cache_is_per_workspace_and_expires(connected_world, as_viewer):
    as_viewer.get(url(connected_world))
    assert account_snapshot_cached(workspace=connected_world.workspace) is not None
    assert account_snapshot_cached(workspace=connected_world.other_workspace) is None
    assert CACHE_SECONDS == 300


def test_refresh_reads_again_and_shows_the_change(as_viewer, connected_world):
    cw = connected_world
    as_viewer.get(url(cw))
    with cw.sim.state.lock:
        cw.sim.state.account["organization_name"] = "Renamed in Constant Contact"
    assert "Renamed in Constant Contact" not in as_viewer.get(url(cw)).content.decode()

    response = as_viewer.post(url(cw, "account_refresh"))
    assert response.status_code == 302 and response["Location"] == url(cw)
    assert "Renamed in Constant Contact" in as_viewer.get(url(cw)).content.decode()
    assert reads(cw) == 2


def test_refresh_with_htmx_swaps_in_only_the_data(as_viewer, connected_world):
    response = as_viewer.post(url(connected_world, "account_refresh"), **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="account-data">')
    assert "<html" not in html
    assert "ccsim Demo Co" in html


def test_refresh_is_a_post(as_viewer, connected_world):
    assert as_viewer.get(url(connected_world, "account_refresh")).status_code == 405
    assert reads(connected_world) == 0


def test_only_members_with_account_write_see_the_edit_button(client, connected_world):
    client.force_login(connected_world.viewer)
    edit = url(connected_world, "account_edit")
    assert edit not in client.get(url(connected_world)).content.decode()
    client.force_login(connected_world.admin)
    assert edit in client.get(url(connected_world)).content.decode()


@pytest.mark.parametrize("member", ["viewer", "editor", "approver", "admin"])
def test_every_preset_can_read_the_account(client, connected_world, member):
    client.force_login(connected_world.user(member))
    assert client.get(url(connected_world)).status_code == 200


def test_it_refuses_a_role_without_account_read(client, connected_world):
    role = connected_world.roles["viewer"]
    role.grants = {**role.grants, "account": "none"}
    role.save(update_fields=["grants"])
    client.force_login(connected_world.viewer)
    assert client.get(url(connected_world)).status_code == 403
    assert client.post(url(connected_world, "account_refresh")).status_code == 403
    assert reads(connected_world) == 0


def test_it_hides_the_workspace_from_outsiders(client, connected_world):
    client.force_login(connected_world.outsider)
    assert client.get(url(connected_world)).status_code == 404
    assert client.post(url(connected_world, "account_refresh")).status_code == 404
    assert reads(connected_world, who="outsider") == 0


def test_an_unavailable_upstream_is_a_message_not_a_500(as_viewer, connected_world,
                                                         no_backoff):
    connected_world.control("POST", "faults", error_rate_503=1.0, count=20)
    response = as_viewer.get(url(connected_world))
    assert response.status_code == 200
    assert "did not answer in time or is unavailable" in response.content.decode()
    assert account_snapshot_cached(workspace=connected_world.workspace) is None


def test_a_failed_refresh_keeps_the_older_copy(as_viewer, connected_world, no_backoff):
    cw = connected_world
    as_viewer.get(url(cw))
    before = account_snapshot_cached(workspace=cw.workspace)
    cw.control("POST", "faults", error_rate_503=1.0, count=20)

    response = as_viewer.post(url(cw, "account_refresh"), **HX)
    html = response.content.decode()
    assert "did not answer in time or is unavailable" in html
    assert "ccsim Demo Co" in html  # still shown, under the error
    assert account_snapshot_cached(workspace=cw.workspace).fetched_at == before.fetched_at

    response = as_viewer.post(url(cw, "account_refresh"), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any("could not be refreshed" in m for m in messages)


def test_a_workspace_not_connected_says_so(client, world):
    client.force_login(world.viewer)
    response = client.get(reverse("campaigns:account", args=[world.workspace.slug]))
    assert response.status_code == 200
    assert "not connected to Constant Contact yet" in response.content.decode()


def test_an_account_without_a_physical_address_is_flagged(as_viewer, connected_world):
    with connected_world.sim.state.lock:
        connected_world.sim.state.account.pop("physical_address")
    html = as_viewer.get(url(connected_world)).content.decode()
    assert "The account has no physical address" in html
    assert "ask an admin to add it" in html


def test_an_upstream_website_that_is_not_http_is_not_a_link(as_viewer, connected_world):
    with connected_world.sim.state.lock:
        connected_world.sim.state.account["website"] = "javascript:alert(1)"
    html = as_viewer.get(url(connected_world)).content.decode()
    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html  # shown as text


def test_the_as_of_time_is_recent(as_viewer, connected_world):
    response = as_viewer.get(url(connected_world))
    fetched = response.context["snapshot"].fetched_at
    assert timezone.now() - fetched < timedelta(seconds=30)
