"""The contacts list screen: search, filters, sorting and keyset paging through
real links (no JavaScript needed), htmx partial swaps, and a fixed number of
queries however many contacts there are."""

from datetime import UTC, datetime, timedelta
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
import pytest

from apps.mirror.models import Contact, ListMembership
from tests.factories import ContactListFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_many(workspace, n: int, start: int = 0) -> list[Contact]:
    rows = []
    for i in range(start, start + n):
        email = f"person{i:04d}@example.com"
        rows.append(Contact(
            workspace=workspace, cc_id=f"cc-{i}", email=email, first_name=f"First{i}",
            last_name=f"Last{i % 10}", search_text=f"first{i} last{i % 10} {email}",
            email_status="implicit", created_upstream=T0 + timedelta(minutes=i),
            updated_upstream=T0 + timedelta(minutes=i),
        ))
    return Contact.objects.bulk_create(rows)


def list_url(world) -> str:
    return reverse("contacts:contact_list", kwargs={"workspace_slug": world.workspace.slug})


@pytest.fixture
def viewer(client, world):
    client.force_login(world.viewer)
    return client


def next_link(response) -> str:
    match = re.search(rb'<a rel="next" href="([^"]+)"', response.content)
    return match.group(1).decode().replace("&amp;", "&") if match else ""


def test_it_pages_through_every_contact_with_plain_links(world, viewer):
    make_many(world.workspace, 120)
    response = viewer.get(list_url(world))
    seen = [c.email for c in response.context["page"].contacts]
    assert b"120 contacts" in response.content
    while link := next_link(response):
        response = viewer.get(list_url(world) + link)
        seen += [c.email for c in response.context["page"].contacts]
    assert seen == sorted(f"person{i:04d}@example.com" for i in range(120))
    assert b'rel="prev"' in response.content


def test_sort_headers_are_links_that_toggle(world, viewer):
    make_many(world.workspace, 3)
    response = viewer.get(list_url(world), {"sort": "-updated"})
    assert [c.email for c in response.context["page"].contacts] == [
        "person0002@example.com", "person0001@example.com", "person0000@example.com"]
    assert b'href="?sort=updated"' in response.content  # the active column flips
    assert b'href="?sort=email"' in response.content
    assert b'aria-sort="descending"' in response.content


def test_search_and_filters_narrow_the_list_and_keep_in_links(world, viewer):
    contacts = make_many(world.workspace, 60)
    vip = ContactListFactory(workspace=world.workspace, name="VIP")
    ListMembership.objects.bulk_create(
        ListMembership(contact=c, contact_list=vip) for c in contacts[:55])
    response = viewer.get(list_url(world), {"q": "last3", "list": vip.pk})
    emails = [c.email for c in response.context["page"].contacts]
    assert emails == [f"person{i:04d}@example.com" for i in range(3, 55, 10)]
    assert b"6 contacts match" in response.content

    response = viewer.get(list_url(world), {"list": vip.pk})
    assert f"list={vip.pk}" in next_link(response)


def test_unusable_filters_and_cursors_fall_back_to_the_first_page(world, viewer):
    make_many(world.workspace, 5)
    response = viewer.get(list_url(world), {"list": "999999", "status": "weird",
                                            "after": "not-a-cursor", "sort": "nonsense"})
    assert response.status_code == 200
    assert len(response.context["page"].contacts) == 5
    assert b"first page" in response.content


def test_htmx_gets_just_the_results(world, viewer):
    make_many(world.workspace, 3)
    response = viewer.get(list_url(world), {"q": "first1"}, HTTP_HX_REQUEST="true")
    assert response.content.lstrip().startswith(b'<div id="contact-results">')
    assert b"<html" not in response.content
    assert response["Vary"].count("HX-Request") == 1
    # A boosted navigation gets the whole page.
    response = viewer.get(list_url(world), HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    assert b"<html" in response.content


def test_the_query_count_does_not_grow_with_the_contacts(world, viewer):
    vip = ContactListFactory(workspace=world.workspace, name="VIP")

    def queries(params) -> int:
        viewer.get(list_url(world), params)  # warm: the plain list's total is cached
        with CaptureQueriesContext(connection) as ctx:
            assert viewer.get(list_url(world), params).status_code == 200
        return len(ctx.captured_queries)

    cases = [{}, {"q": "first"}, {"list": vip.pk}, {"sort": "-name"}]
    make_many(world.workspace, 10)
    small = [queries(params) for params in cases]
    many = make_many(world.workspace, 300, start=10)
    ListMembership.objects.bulk_create(ListMembership(contact=c, contact_list=vip) for c in many)
    assert [queries(params) for params in cases] == small


def test_viewers_see_no_write_buttons(world, viewer):
    response = viewer.get(list_url(world))
    assert b"New contact" not in response.content


def test_outsiders_get_404(client, world):
    client.force_login(world.outsider)
    assert client.get(list_url(world)).status_code == 404


# --- "1–50 of 2,973": where a page sits, with Previous as well as Next --------------

def prev_link(response) -> str:
    match = re.search(rb'<a rel="prev" href="([^"]+)"', response.content)
    return match.group(1).decode().replace("&amp;", "&") if match else ""


def span_text(response) -> str:
    match = re.search(rb'<span class="page-range">([^<]+)</span>', response.content)
    return match.group(1).decode() if match else ""


def test_paging_says_where_each_page_sits_going_forward_and_back(world, viewer):
    make_many(world.workspace, 2_973)
    response = viewer.get(list_url(world))
    assert span_text(response) == "1–50 of 2,973"
    assert b'<span class="page-step is-disabled">\xe2\x86\x90 Previous</span>' in response.content
    assert "start=51" in next_link(response)

    second = viewer.get(list_url(world) + next_link(response))
    assert span_text(second) == "51–100 of 2,973"
    third = viewer.get(list_url(world) + next_link(second))
    assert span_text(third) == "101–150 of 2,973"
    back = viewer.get(list_url(world) + prev_link(third))
    assert span_text(back) == "51–100 of 2,973"
    assert [c.pk for c in back.context["page"].contacts] == [c.pk for c in second.context["page"].contacts]
    first = viewer.get(list_url(world) + prev_link(back))
    assert span_text(first) == "1–50 of 2,973"
    assert first.context["page"].previous is None


def test_the_last_page_is_numbered_exactly_whatever_the_link_says(world, viewer):
    make_many(world.workspace, 120)
    response = viewer.get(list_url(world))
    second = viewer.get(list_url(world) + next_link(response))
    link = next_link(second).replace("start=101", "start=7")  # a stale or tampered hint
    last = viewer.get(list_url(world) + link)
    assert span_text(last) == "101–120 of 120"
    assert b'<span class="page-step is-disabled">Next \xe2\x86\x92</span>' in last.content
    # Nonsense hints are ignored, never a 500.
    for start in ("-3", "abc", "99999999999"):
        page = viewer.get(list_url(world) + next_link(response).replace("start=51", f"start={start}"))
        assert page.status_code == 200


def test_paging_keeps_the_filter_and_the_bulk_checkboxes(world, viewer):
    contacts = make_many(world.workspace, 80)
    vip = ContactListFactory(workspace=world.workspace, name="VIP")
    ListMembership.objects.bulk_create(
        ListMembership(contact=c, contact_list=vip) for c in contacts[:70])
    response = viewer.get(list_url(world), {"list": vip.pk})
    assert span_text(response) == "1–50 of 70"
    second = viewer.get(list_url(world) + next_link(response))
    assert f"list={vip.pk}" in prev_link(second)
    assert span_text(second) == "51–70 of 70"
    assert second.context["filters"].contact_list == vip


def test_members_who_may_bulk_edit_get_checkboxes_on_every_page(world, client):
    make_many(world.workspace, 60)
    client.force_login(world.admin)
    first = client.get(list_url(world))
    second = client.get(list_url(world) + next_link(first))
    assert first.content.count(b'form="bulk-chosen"') == 50
    assert second.content.count(b'form="bulk-chosen"') == 10
    assert span_text(second) == "51–60 of 60"
