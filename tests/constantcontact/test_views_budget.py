"""The API budget page: today's shared calls against the quota, by area, member and
job, throttles and errors, read from the rate limiter's Redis counters."""

import re

from django.urls import reverse
import pytest
import redis

from apps.accounts.models import Membership
from apps.constantcontact import selectors
from apps.constantcontact.errors import Throttled
from apps.constantcontact.gate import Actor, gate_for
from apps.constantcontact.ratelimit import api_budget
from tests.constantcontact.conftest import API


def url(world) -> str:
    return reverse("constantcontact:budget", kwargs={"workspace_slug": world.workspace.slug})


def member(world, name: str) -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=world.user(name))


def text_of(response) -> str:
    """The page's text with tags and runs of whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_it_counts_calls_made_through_the_gate(admin_client, world, connection, mocked,
                                              no_backoff):
    mocked.get(f"{API}/contacts", json={"contacts": []})
    mocked.get(f"{API}/contact_lists", json={"lists": []})
    mocked.get(f"{API}/emails", status=429, json={"error_key": "throttled",
                                                  "error_message": "Too Many Requests"})
    editor = gate_for(workspace=world.workspace, actor=Actor.member(member(world, "editor")))
    editor.call("contacts.list")
    editor.call("contacts.list")
    sync = gate_for(workspace=world.workspace,
                    actor=Actor.job("lists.sync", on_behalf_of=member(world, "admin")))
    sync.call("lists.list")
    with pytest.raises(Throttled):
        editor.call("emails.list")
    attempts = sum(1 for call in mocked.calls if "/emails" in call.request.url)

    response = admin_client.get(url(world))

    assert response.status_code == 200
    html = response.content.decode()
    total = 3 + attempts
    assert f'value="{total}"' in html  # the <meter>
    assert '<meter id="budget-meter"' in html
    text = text_of(response)
    assert f"{total} of 10,000 calls used" in text
    assert "Contacts 2" in text and "Lists 1" in text and f"Campaigns {attempts}" in text
    assert f"{world.editor.display_name} {2 + attempts}" in text
    assert f"{world.admin.display_name} 1" in text
    assert f"Members on screens (interactive) {2 + attempts}" in text
    assert "Lists sync 1" in text  # job names in words, not "lists.sync"
    assert f"Throttled by Constant Contact (429 throttled) {attempts}" in text


def test_it_shows_throttles_errors_and_refusals(admin_client, world):
    budget = api_budget()
    budget.note("throttled", 3)
    budget.note("upstream_unavailable", 2)
    budget.note("client_error")
    budget.note("denied", 4)

    response = admin_client.get(url(world))

    html = response.content.decode()
    assert re.search(r'class="cc-throttles">3<', html)
    assert re.search(r'class="cc-errors">3<', html)  # refusals never left, so not errors
    assert "Refused by the gate: role or scope (never sent) 4" in text_of(response)


def test_it_names_only_this_workspaces_members(admin_client, world):
    api_budget().record_call(area="contacts", member=str(world.viewer.pk), job="", attempts=2)
    api_budget().record_call(area="contacts", member=str(world.outsider.pk), job="", attempts=5)

    text = text_of(admin_client.get(url(world)))

    assert f"{world.viewer.display_name} 2" in text
    assert "Members of other workspaces 5" in text
    assert world.outsider.display_name not in text


def test_it_shows_the_reserve_the_per_second_cap_and_the_reset(admin_client, world,
                                                              cc_settings):
    cc_settings.CC_DAILY_QUOTA = 10
    cc_settings.CC_INTERACTIVE_RESERVE = 2
    budget = api_budget()
    for _ in range(8):
        budget.acquire(interactive=True, timeout=1)

    response = admin_client.get(url(world))

    text = text_of(response)
    assert "8 of 10 calls used (80%), 2 left" in text
    assert "The last 2 calls of the day are kept for members" in text
    assert "Background work is paused until the reset" in text
    assert "The count starts again at 00:00 UTC, in" in text
    assert "At most 1000 calls in any 1,040 ms window" in text
    assert 'max="10"' in response.content.decode()


def test_an_empty_day_reads_as_such(admin_client, world):
    response = admin_client.get(url(world))

    text = text_of(response)
    assert "0 of 10,000 calls used (0%)" in text
    assert "None today." in text
    assert "Background work is paused" not in text


def test_it_polls_a_partial_at_the_shared_interval(admin_client, world):
    page = admin_client.get(url(world)).content.decode()
    assert 'hx-trigger="every 3s"' in page

    response = admin_client.get(url(world), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith("<div id=\"budget-figures\"")
    assert "<html" not in html
    assert 'hx-trigger="every 3s"' in html  # the answer keeps polling
    assert response["Cache-Control"] == "no-store"


def test_it_explains_when_redis_is_unreachable(admin_client, world, monkeypatch):
    def broken():
        raise redis.ConnectionError("no redis")

    monkeypatch.setattr(selectors, "api_budget", broken)

    response = admin_client.get(url(world))

    assert response.status_code == 200
    assert "budget counters can't be read right now" in response.content.decode()


def test_no_inline_styles(admin_client, world):
    html = admin_client.get(url(world)).content.decode()

    assert "style=" not in html
    assert "<script>" not in html


@pytest.mark.parametrize("member_name", ["admin", "editor", "approver", "viewer"])
def test_members_with_account_read_see_it(client, world, member_name):
    client.force_login(world.user(member_name))

    assert client.get(url(world)).status_code == 200


def test_outsiders_get_404(client, world):
    client.force_login(world.outsider)

    assert client.get(url(world)).status_code == 404


def test_job_names_read_as_words_and_the_card_can_wrap_them(admin_client, world):
    budget = api_budget()
    budget.record_call(area="contacts", member=str(world.admin.pk), job="contacts.sync", attempts=3)
    budget.record_call(area="contacts", member=str(world.admin.pk),
                       job="bulk.remove_from_lists#42", attempts=2)
    budget.record_call(area="campaigns", member=str(world.admin.pk), job="campaigns.test_send",
                       attempts=1)

    text = text_of(admin_client.get(url(world)))

    assert "Contacts sync 3" in text
    assert "Bulk: remove from lists (job 42) 2" in text
    assert "Test sends 1" in text
    assert "contacts.sync" not in text and "bulk.remove_from_lists" not in text


def test_each_agent_is_its_own_line_with_its_cap_apart_from_its_owner(admin_client, world):
    from apps.accounts.models import Membership
    from apps.constantcontact.agent_caps import budget_member_key
    from tests.factories import make_agent

    owner = Membership.objects.get(workspace=world.workspace, user=world.editor)
    agent, _ = make_agent(owner, name="Newsletter bot", daily_quota_percent=10)
    theirs, _ = make_agent(Membership.objects.get(user=world.outsider), name="Their bot")
    budget = api_budget()
    budget.record_call(area="contacts", member=str(world.editor.pk), job="", attempts=2)
    budget.record_call(area="contacts", member=budget_member_key(agent), job="", attempts=3)
    budget.record_call(area="contacts", member=budget_member_key(theirs), job="", attempts=4)

    response = admin_client.get(url(world))

    text = text_of(response)
    cap = budget.quota // 10
    assert (f"Agent Newsletter bot · owner editor@example.com "
            f"Cap {cap:,} calls a day (10% of the quota) 3") in text
    assert f"{world.editor.display_name} 2" in text  # the owner's own calls, apart
    assert "Agents of other workspaces, or deleted 4" in text
    assert "Their bot" not in text and f"agent:{agent.pk}" not in text
