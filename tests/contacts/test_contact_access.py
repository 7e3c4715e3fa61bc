"""Who may use the contact screens: readers read, only writers write (403 for a
viewer on every write, before anything reaches Constant Contact), outsiders
learn nothing (404), and another workspace's contact is not found."""

from django.urls import reverse
import pytest

from apps.audit.models import AuditEvent
from tests.factories import ContactFactory, ContactListFactory, TagFactory

pytestmark = pytest.mark.django_db

WRITES = [
    ("contact_create", "get", False), ("contact_create", "post", False),
    ("contact_signup_upsert", "get", False), ("contact_signup_upsert", "post", False),
    ("contact_edit", "get", True), ("contact_edit", "post", True),
    ("contact_delete", "get", True), ("contact_delete", "post", True),
    ("contact_list_add", "post", True), ("contact_list_remove", "post", True),
    ("contact_tag_add", "post", True), ("contact_tag_remove", "post", True),
]
READS = [("contact_list", False), ("contact_detail", True)]


@pytest.fixture
def rows(world):
    ws = world.workspace
    return ContactFactory(workspace=ws), ContactListFactory(workspace=ws), TagFactory(workspace=ws)


def url(world, name: str, rows, with_contact: bool, contact=None) -> str:
    contact_row, contact_list, tag = rows
    kwargs = {"workspace_slug": world.workspace.slug}
    if with_contact:
        kwargs["contact_id"] = (contact or contact_row).pk
    if name == "contact_list_remove":
        kwargs["list_id"] = contact_list.pk
    if name == "contact_tag_remove":
        kwargs["tag_id"] = tag.pk
    return reverse(f"contacts:{name}", kwargs=kwargs)


@pytest.mark.parametrize("name, method, with_contact", WRITES)
def test_a_viewer_is_refused_every_write(client, world, rows, name, method, with_contact):
    client.force_login(world.viewer)
    response = getattr(client, method)(url(world, name, rows, with_contact),
                                       {"list": rows[1].pk, "tag": rows[2].pk})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="cc.").exists()


@pytest.mark.parametrize("name, with_contact", READS)
def test_a_viewer_may_read(client, world, rows, name, with_contact):
    client.force_login(world.viewer)
    assert client.get(url(world, name, rows, with_contact)).status_code == 200


@pytest.mark.parametrize("name, method, with_contact",
                         WRITES + [(name, "get", c) for name, c in READS])
def test_an_outsider_gets_404(client, world, rows, name, method, with_contact):
    client.force_login(world.outsider)
    assert getattr(client, method)(url(world, name, rows, with_contact)).status_code == 404


@pytest.mark.parametrize("name, method, with_contact",
                         [w for w in WRITES if w[2]] + [("contact_detail", "get", True)])
def test_another_workspaces_contact_is_not_found(client, world, rows, name, method,
                                                 with_contact):
    theirs = ContactFactory(workspace=world.other_workspace)
    client.force_login(world.editor)
    response = getattr(client, method)(url(world, name, rows, with_contact, contact=theirs),
                                       {"list": rows[1].pk, "tag": rows[2].pk})
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["contact_list_add", "contact_tag_add", "contact_list_remove"])
def test_membership_changes_are_post_only(client, world, rows, name):
    client.force_login(world.editor)
    assert client.get(url(world, name, rows, True)).status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(client, world, rows):
    response = client.get(url(world, "contact_detail", rows, True))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
