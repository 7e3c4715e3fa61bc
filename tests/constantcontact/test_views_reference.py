"""The API reference: every catalog endpoint, filters that narrow the table (with
and without htmx), and whether the member's role allows each call."""

import re

from django.urls import reverse
import pytest

from apps.accounts.grants import Access, Area
from apps.accounts.models import Membership
from apps.accounts.services import role_save
from apps.constantcontact.catalog import ENDPOINTS, endpoint


def url(world, query: str = "") -> str:
    base = reverse("constantcontact:reference", kwargs={"workspace_slug": world.workspace.slug})
    return f"{base}?{query}" if query else base


def row_ids(response) -> list[str]:
    return re.findall(r'<tr id="endpoint-([^"]+)"', response.content.decode())


def row_id(name: str) -> str:
    return endpoint(name).anchor


def row_html(response, name: str) -> str:
    html = response.content.decode()
    start = html.index(f'<tr id="endpoint-{row_id(name)}"')
    return html[start:html.index("</tr>", start)]


def test_every_catalog_endpoint_is_listed(admin_client, world):
    response = admin_client.get(url(world))

    assert response.status_code == 200
    assert len(row_ids(response)) == len(ENDPOINTS)
    html = response.content.decode()
    assert "/activities/contact_exports" in html
    assert "contacts:lists:write" in html  # the privilege column


def test_each_row_shows_its_live_effect_and_notes(admin_client, world):
    response = admin_client.get(url(world))

    row = row_html(response, "emails.schedule")
    assert "Sends email" in row
    assert "never retry blindly" in row
    assert "send" in row  # the capability it also needs


def test_filtering_by_method_narrows_the_table(admin_client, world):
    response = admin_client.get(url(world, "method=DELETE"))

    expected = [e for e in ENDPOINTS if e.method == "DELETE"]
    assert len(row_ids(response)) == len(expected)
    assert f"{len(expected)} endpoints match these filters" in response.content.decode()


def test_filtering_by_area_and_access_narrows_the_table(admin_client, world):
    response = admin_client.get(url(world, "area=lists&access=write"))

    expected = {row_id(e.name) for e in ENDPOINTS
                if e.area == Area.LISTS and e.access == Access.WRITE}
    assert set(row_ids(response)) == expected == {"lists_create", "lists_update", "lists_delete"}


def test_filtering_by_scope_narrows_the_table(admin_client, world):
    response = admin_client.get(url(world, "scope=account_read"))

    assert set(row_ids(response)) == {"account_summary_get", "account_emails_list"}


def test_the_search_box_matches_paths(admin_client, world):
    response = admin_client.get(url(world, "q=TRACKING"))

    ids = row_ids(response)
    assert len(ids) == 5
    assert all("tracking" in endpoint(e.name).path for e in ENDPOINTS if row_id(e.name) in ids)


def test_a_filter_that_matches_nothing_says_so(admin_client, world):
    response = admin_client.get(url(world, "q=/no/such/path"))

    assert row_ids(response) == []
    assert "No endpoint matches" in response.content.decode()


def test_an_invalid_filter_is_explained_and_ignored(admin_client, world):
    response = admin_client.get(url(world, "method=BREW&area=lists"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Some filters were ignored" in html
    assert "Method:" in html
    # The valid filter still applies.
    assert set(row_ids(response)) == {row_id(e.name) for e in ENDPOINTS if e.area == Area.LISTS}


def test_an_htmx_filter_gets_only_the_results(admin_client, world):
    response = admin_client.get(url(world, "method=PATCH"), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="reference-results">')
    assert "<html" not in html
    assert len(row_ids(response)) == 2
    assert "HX-Request" in response["Vary"]


def test_a_boosted_navigation_gets_the_whole_page(admin_client, world):
    response = admin_client.get(
        url(world), headers={"HX-Request": "true", "HX-Boosted": "true"}
    )

    assert "<html" in response.content.decode()


def test_the_filter_form_works_without_javascript_and_pushes_the_url_with_it(admin_client,
                                                                             world):
    html = admin_client.get(url(world)).content.decode()

    assert f'<form method="get" action="{url(world)}"' in html
    assert 'hx-push-url="true"' in html


def test_admins_may_call_everything(admin_client, world):
    html = admin_client.get(url(world)).content.decode()

    assert 'aria-label="Not allowed"' not in html


def test_a_viewer_sees_why_writes_are_refused(client, world):
    client.force_login(world.viewer)

    response = client.get(url(world))

    assert 'aria-label="Allowed"' in row_html(response, "contacts.list")
    refused = row_html(response, "contacts.create")
    assert 'aria-label="Not allowed"' in refused
    assert "Needs write on contacts; you have read." in refused


def test_the_send_capability_decides_scheduling(client, world):
    client.force_login(world.editor)
    editor_view = client.get(url(world, "q=schedules"))
    client.force_login(world.approver)
    approver_view = client.get(url(world, "q=schedules"))

    assert "Needs the send capability." in row_html(editor_view, "emails.schedule")
    assert 'aria-label="Allowed"' in row_html(approver_view, "emails.schedule")


def test_a_custom_role_without_access_to_an_area_sees_none(client, world):
    role = role_save(
        workspace=world.workspace, actor=world.admin, name="Contacts only", description="",
        grants={Area.CONTACTS: Access.READ}, can_approve=False, can_send=False,
    )
    Membership.objects.filter(workspace=world.workspace, user=world.viewer).update(role=role)
    client.force_login(world.viewer)

    response = client.get(url(world, "area=campaigns"))

    assert response.status_code == 200  # any member may read the reference
    assert "you have none" in row_html(response, "emails.list")


@pytest.mark.parametrize("member", ["admin", "editor", "approver", "viewer"])
def test_every_member_may_read_it(client, world, member):
    client.force_login(world.user(member))

    assert client.get(url(world)).status_code == 200


def test_outsiders_get_404(client, world):
    client.force_login(world.outsider)

    assert client.get(url(world)).status_code == 404
