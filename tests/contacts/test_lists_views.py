"""The lists screens, as members use them, against the simulator: the table, a
list's page, create, edit, the favourite star (htmx and plain), delete with its
pending row that polls until the simulator's activity is done, the grants on
every action, and upstream failures shown as messages with the mirror unchanged."""

from django.urls import reverse
import pytest

from apps.constantcontact.models import Connection
from apps.mirror.models import Contact, ContactList, ListMembership
from tests.contacts.test_lists_services import mirror_contacts, mirror_lists, upstream_list
from tests.factories import ContactListFactory

HX = {"HTTP_HX_REQUEST": "true"}


def url(cw, name: str, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": cw.workspace.slug, **kwargs})


@pytest.fixture
def lists(connected_world) -> dict[str, ContactList]:
    return mirror_lists(connected_world)


@pytest.fixture
def as_editor(client, connected_world):
    client.force_login(connected_world.editor)
    return client


@pytest.fixture
def as_viewer(client, connected_world):
    client.force_login(connected_world.viewer)
    return client


# --- Reading -------------------------------------------------------------------

def test_the_table_shows_each_list_with_its_members_and_star(as_editor, connected_world, lists):
    html = as_editor.get(url(connected_world, "list_index")).content.decode()
    assert "Newsletter" in html and "Webinar attendees" in html
    assert f">{lists['VIP'].membership_count}<" in html
    assert 'aria-label="Remove Newsletter from favourites"' in html  # seeded as a favourite
    assert 'aria-label="Mark Customers as a favourite"' in html
    assert 'class="freshness' in html  # how old the data is


def test_a_viewer_sees_the_lists_without_any_button_to_change_them(as_viewer, connected_world,
                                                                   lists):
    response = as_viewer.get(url(connected_world, "list_index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Newsletter" in html
    assert "New list" not in html
    assert url(connected_world, "list_edit", list_id=lists["VIP"].pk) not in html
    assert url(connected_world, "list_favorite", list_id=lists["VIP"].pk) not in html


def test_the_list_page_shows_its_members_a_page_at_a_time(as_viewer, connected_world, lists):
    cw = connected_world
    mirror_contacts(cw)
    newsletter = lists["Newsletter"]
    members = list(Contact.objects.filter(listmembership__contact_list=newsletter)
                   .order_by("pk"))
    assert members
    response = as_viewer.get(url(cw, "list_detail", list_id=newsletter.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert members[0].email in html
    assert f"Members:</span> {len(members)}" in html
    # A stale or hand-made cursor is just the first page again, never an error.
    detail = url(cw, "list_detail", list_id=newsletter.pk)
    assert as_viewer.get(detail + "?after=x").status_code == 200
    later = as_viewer.get(detail + f"?after={members[0].pk}").content.decode()
    assert members[0].email not in later


def test_another_workspaces_list_is_not_found(as_editor, connected_world):
    theirs = ContactListFactory(name="Theirs")  # in a new workspace of its own
    for name in ("list_detail", "list_edit", "list_delete"):
        assert as_editor.get(url(connected_world, name, list_id=theirs.pk)).status_code == 404
    assert as_editor.post(url(connected_world, "list_delete_status",
                              list_id=theirs.pk)).status_code == 404
    assert as_editor.post(url(connected_world, "list_favorite", list_id=theirs.pk),
                          {"favorite": "1"}).status_code == 404


def test_outsiders_do_not_learn_the_workspace_exists(client, connected_world, lists):
    client.force_login(connected_world.outsider)
    assert client.get(url(connected_world, "list_index")).status_code == 404
    assert client.get(url(connected_world, "list_detail",
                          list_id=lists["VIP"].pk)).status_code == 404


def test_a_viewer_may_not_change_a_list(as_viewer, connected_world, lists):
    cw, vip = connected_world, lists["VIP"]
    assert as_viewer.get(url(cw, "list_create")).status_code == 403
    assert as_viewer.post(url(cw, "list_create"), {"name": "Mine"}).status_code == 403
    assert as_viewer.post(url(cw, "list_edit", list_id=vip.pk), {"name": "X"}).status_code == 403
    assert as_viewer.post(url(cw, "list_favorite", list_id=vip.pk),
                          {"favorite": "0"}).status_code == 403
    assert as_viewer.post(url(cw, "list_delete", list_id=vip.pk)).status_code == 403
    vip.refresh_from_db()
    assert (vip.name, vip.favorite, vip.delete_activity_id) == ("VIP", True, "")


# --- Create and edit -------------------------------------------------------------

def test_an_editor_creates_a_list(as_editor, connected_world):
    cw = connected_world
    response = as_editor.post(url(cw, "list_create"), {
        "name": "Trade show leads", "description": "Met at the stand", "favorite": "on",
    }, follow=True)
    row = ContactList.objects.get(workspace=cw.workspace, name="Trade show leads")
    assert response.redirect_chain[-1][0] == url(cw, "list_detail", list_id=row.pk)
    assert "List “Trade show leads” created." in response.content.decode()
    assert upstream_list(cw, row.cc_id)["description"] == "Met at the stand"


def test_a_duplicate_name_is_an_error_on_the_name(as_editor, connected_world, lists):
    before = ContactList.objects.count()
    response = as_editor.post(url(connected_world, "list_create"), {"name": "Customers"})
    assert response.status_code == 200
    assert "already has a list with this name" in response.context["form"].errors["name"][0]
    assert ContactList.objects.count() == before


def test_an_empty_or_too_long_name_is_refused_before_calling_constant_contact(
    as_editor, connected_world
):
    cw = connected_world
    cw.control("POST", "faults", error_rate_500=1.0)  # any call would fail loudly
    for name in ("   ", "x" * 256):
        response = as_editor.post(url(cw, "list_create"), {"name": name})
        assert response.status_code == 200
        assert response.context["form"].errors["name"]
    assert not ContactList.objects.exists()


def test_when_constant_contact_is_down_the_form_says_so_and_nothing_is_mirrored(
    as_editor, connected_world
):
    cw = connected_world
    cw.control("POST", "faults", error_rate_503=1.0)
    response = as_editor.post(url(cw, "list_create"), {"name": "Never made"})
    assert response.status_code == 200
    assert "did not answer in time or is unavailable" in str(
        response.context["form"].non_field_errors())
    assert not ContactList.objects.filter(name="Never made").exists()


def test_an_expired_connection_is_explained_on_the_form(as_editor, connected_world):
    cw = connected_world
    Connection.objects.filter(pk=cw.connection.pk).update(
        status=Connection.Status.NEEDS_RECONNECT)
    response = as_editor.post(url(cw, "list_create"), {"name": "Never made"})
    assert "An admin must reconnect it" in str(response.context["form"].non_field_errors())
    assert not ContactList.objects.filter(name="Never made").exists()


def test_an_editor_renames_and_describes_a_list(as_editor, connected_world, lists):
    cw, vip = connected_world, lists["VIP"]
    form = as_editor.get(url(cw, "list_edit", list_id=vip.pk))
    seen = form.context["form"]["seen_updated_at"].value()
    assert seen == vip.raw["updated_at"]
    response = as_editor.post(url(cw, "list_edit", list_id=vip.pk), {
        "name": "Very important", "description": "Our best", "favorite": "on",
        "seen_updated_at": seen,
    })
    assert response.status_code == 302
    vip.refresh_from_db()
    assert (vip.name, vip.description) == ("Very important", "Our best")
    assert upstream_list(cw, vip.cc_id)["name"] == "Very important"


def test_an_edit_over_a_change_made_meanwhile_asks_instead_of_overwriting(
    as_editor, connected_world, lists
):
    cw, vip = connected_world, lists["VIP"]
    seen = vip.raw["updated_at"]
    with cw.sim.state.lock:
        cw.sim.state.lists[vip.cc_id].update(name="VIP (theirs)",
                                             updated_at="2031-01-01T00:00:00Z")
    response = as_editor.post(url(cw, "list_edit", list_id=vip.pk), {
        "name": "VIP (mine)", "description": "", "seen_updated_at": seen,
    })
    assert response.status_code == 200
    errors = str(response.context["form"].non_field_errors())
    assert "changed this list in Constant Contact after you opened this form" in errors
    assert "VIP (theirs)" in errors
    assert upstream_list(cw, vip.cc_id)["name"] == "VIP (theirs)"
    # Saving again is a deliberate overwrite, checked against what they just saw.
    form = response.context["form"]
    assert form["seen_updated_at"].value() == "2031-01-01T00:00:00Z"
    again = as_editor.post(url(cw, "list_edit", list_id=vip.pk), {
        "name": "VIP (mine)", "description": "", "seen_updated_at": "2031-01-01T00:00:00Z",
    })
    assert again.status_code == 302
    assert upstream_list(cw, vip.cc_id)["name"] == "VIP (mine)"


# --- The favourite star ---------------------------------------------------------------

def test_the_star_swaps_its_row_over_htmx(as_editor, connected_world, lists):
    cw, customers = connected_world, lists["Customers"]
    response = as_editor.post(url(cw, "list_favorite", list_id=customers.pk),
                              {"favorite": "1"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="list-{customers.pk}"')
    assert 'aria-pressed="true"' in html
    customers.refresh_from_db()
    assert customers.favorite
    assert upstream_list(cw, customers.cc_id)["favorite"] is True


def test_the_star_works_without_javascript(as_editor, connected_world, lists):
    cw, newsletter = connected_world, lists["Newsletter"]
    response = as_editor.post(url(cw, "list_favorite", list_id=newsletter.pk),
                              {"favorite": "0", "return_to": "detail"})
    assert response.status_code == 302
    assert response["Location"] == url(cw, "list_detail", list_id=newsletter.pk)
    newsletter.refresh_from_db()
    assert not newsletter.favorite


def test_a_failed_star_shows_the_error_in_its_row_and_changes_nothing(
    as_editor, connected_world, lists, no_backoff
):
    cw, customers = connected_world, lists["Customers"]
    cw.control("POST", "faults", error_rate_503=1.0)
    response = as_editor.post(url(cw, "list_favorite", list_id=customers.pk),
                              {"favorite": "1"}, **HX)
    assert "did not answer in time" in response.content.decode()
    customers.refresh_from_db()
    assert not customers.favorite


# --- Delete ----------------------------------------------------------------------------

def test_delete_asks_first_then_shows_the_list_as_deleting_until_done(
    as_editor, connected_world, lists
):
    cw = connected_world
    mirror_contacts(cw)
    events = lists["Events"]
    confirm = as_editor.get(url(cw, "list_delete", list_id=events.pk))
    assert "This can't be undone" in confirm.content.decode()
    assert ContactList.objects.filter(pk=events.pk, delete_activity_id="").exists()

    response = as_editor.post(url(cw, "list_delete", list_id=events.pk), follow=True)
    html = response.content.decode()
    assert "is deleting “Events” in the background" in html
    assert "Deleting…" in html
    status_url = url(cw, "list_delete_status", list_id=events.pk)
    assert f'hx-post="{status_url}"' in html

    still = as_editor.post(status_url, **HX)
    assert still.status_code == 200  # keeps polling
    assert f'hx-post="{status_url}"' in still.content.decode()

    cw.sim.advance(60)
    done = as_editor.post(status_url, **HX)
    assert done.status_code == 286
    assert done.content == b""
    assert not ContactList.objects.filter(pk=events.pk).exists()
    assert not ListMembership.objects.filter(contact_list_id=events.pk).exists()
    # Another tab still polling for it stops quietly too.
    assert as_editor.post(status_url, **HX).status_code == 286


def test_a_viewer_watching_the_page_also_sees_the_delete_finish(client, connected_world, lists):
    cw = connected_world
    client.force_login(cw.editor)
    client.post(url(cw, "list_delete", list_id=lists["Partners"].pk))
    client.force_login(cw.viewer)
    cw.sim.advance(60)
    status = client.post(url(cw, "list_delete_status", list_id=lists["Partners"].pk), **HX)
    assert status.status_code == 286
    assert not ContactList.objects.filter(pk=lists["Partners"].pk).exists()


def test_checking_a_delete_without_javascript_goes_back_to_the_lists(as_editor, connected_world,
                                                                    lists):
    cw = connected_world
    as_editor.post(url(cw, "list_delete", list_id=lists["Partners"].pk))
    response = as_editor.post(url(cw, "list_delete_status", list_id=lists["Partners"].pk),
                              follow=True)
    assert "is still deleting “Partners”" in response.content.decode()
    cw.sim.advance(60)
    response = as_editor.post(url(cw, "list_delete_status", list_id=lists["Partners"].pk),
                              follow=True)
    assert "List “Partners” deleted." in response.content.decode()


def test_a_pending_delete_that_cannot_be_checked_stops_polling_and_says_why(
    as_editor, connected_world, lists
):
    cw = connected_world
    as_editor.post(url(cw, "list_delete", list_id=lists["Partners"].pk))
    Connection.objects.filter(pk=cw.connection.pk).update(
        status=Connection.Status.NEEDS_RECONNECT)
    response = as_editor.post(url(cw, "list_delete_status", list_id=lists["Partners"].pk),
                              **HX)
    html = response.content.decode()
    assert response.status_code == 286
    assert "hx-trigger" not in html
    assert "An admin must reconnect it" in html
    assert ContactList.objects.get(pk=lists["Partners"].pk).delete_pending


def test_a_pending_list_cannot_be_edited(as_editor, connected_world, lists):
    cw = connected_world
    as_editor.post(url(cw, "list_delete", list_id=lists["Partners"].pk))
    response = as_editor.get(url(cw, "list_edit", list_id=lists["Partners"].pk), follow=True)
    assert "is being deleted in Constant Contact" in response.content.decode()


def test_a_refused_delete_is_explained_and_the_list_stays(as_editor, connected_world, lists,
                                                         no_backoff):
    cw = connected_world
    cw.control("POST", "faults", error_rate_503=1.0)
    response = as_editor.post(url(cw, "list_delete", list_id=lists["VIP"].pk))
    assert response.status_code == 200
    assert "did not answer in time" in response.content.decode()
    assert ContactList.objects.get(pk=lists["VIP"].pk).delete_activity_id == ""


def test_the_list_page_says_one_member_count_and_who_cannot_receive_email(as_viewer,
                                                                          connected_world):
    # It used to say "Members (Constant Contact): 0 · Members here: 1" after a
    # contact was added here, and never why a campaign's check counted fewer.
    from apps.mirror.models import EmailStatus
    from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory

    cw = connected_world
    vip = ContactListFactory(workspace=cw.workspace, name="VIP", membership_count=0)
    for n in range(1_203):
        status = EmailStatus.UNSUBSCRIBED if n < 11 else EmailStatus.EXPLICIT
        contact = ContactFactory(workspace=cw.workspace, email_status=status)
        ListMembershipFactory(contact=contact, contact_list=vip)

    text = " ".join(as_viewer.get(url(cw, "list_detail", list_id=vip.pk))
                    .content.decode().split())

    assert ("Members:</span> 1,203, of whom 1,192 can receive email "
            "(11 unsubscribed or not yet confirmed)") in text
    assert "Constant Contact counted 0 at the last sync" in text
    assert "Members here" not in text and "Members (Constant Contact)" not in text
