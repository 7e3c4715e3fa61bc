"""The tags screens against the simulator: the table with counts and the 500-tag
allowance (a warning from 450, the create form refused at 500, Constant
Contact's own refusal shown if the mirror lags), create, rename, duplicates,
delete pending until done, and the grants."""

from django.urls import reverse
import pytest

from apps.constantcontact.errors import Throttled
from apps.contacts.services import tags as tag_services
from apps.mirror.models import Tag
from tests.contacts.test_tags_services import fill_upstream_tags, mirror_tags, upstream_tags

HX = {"HTTP_HX_REQUEST": "true"}


def url(cw, name: str, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": cw.workspace.slug, **kwargs})


def mirror_filler_tags(cw, up_to: int) -> None:
    """Mirror rows only (as if synced), until the mirror holds `up_to` tags."""
    have = Tag.objects.filter(workspace=cw.workspace).count()
    Tag.objects.bulk_create([
        Tag(workspace=cw.workspace, cc_id=f"filler-{n}", name=f"filler {n:03}")
        for n in range(up_to - have)
    ])


@pytest.fixture
def tags(connected_world) -> dict[str, Tag]:
    return mirror_tags(connected_world)


@pytest.fixture
def as_editor(client, connected_world):
    client.force_login(connected_world.editor)
    return client


def test_the_table_shows_each_tag_its_contacts_and_the_allowance(as_editor, connected_world,
                                                                 tags):
    html = as_editor.get(url(connected_world, "tag_index")).content.decode()
    assert "churn-risk" in html and "trade-show" in html
    assert f">{tags['lead'].contacts_count}<" in html
    assert "<strong>10 of 500</strong> tags used" in html
    assert "Only" not in html  # no warning yet


def test_from_450_tags_the_page_warns(as_editor, connected_world, tags):
    mirror_filler_tags(connected_world, 450)
    html = as_editor.get(url(connected_world, "tag_index")).content.decode()
    assert "<strong>450 of 500</strong>" in html
    assert "Only 50 more tags can be created" in html
    form = as_editor.get(url(connected_world, "tag_create")).content.decode()
    assert "Only 50 more tags can be created" in form


def test_at_500_tags_the_create_form_explains_instead_and_nothing_is_sent(
    as_editor, connected_world, tags
):
    cw = connected_world
    mirror_filler_tags(cw, 500)
    index = as_editor.get(url(cw, "tag_index")).content.decode()
    assert "reached Constant Contact's limit of 500 tags" in index
    assert url(cw, "tag_create") not in index
    page = as_editor.get(url(cw, "tag_create")).content.decode()
    assert "the most Constant Contact allows (500)" in page
    assert "<form" not in page.split("<main", 1)[1]
    response = as_editor.post(url(cw, "tag_create"), {"name": "One too many"})
    assert response.status_code == 200
    assert "One too many" not in upstream_tags(cw)


def test_when_the_mirror_lags_constant_contacts_own_limit_is_shown(as_editor, connected_world,
                                                                   tags):
    cw = connected_world
    fill_upstream_tags(cw, 500)  # made elsewhere, not synced yet
    response = as_editor.post(url(cw, "tag_create"), {"name": "One too many"})
    assert response.status_code == 200
    assert "at most 500 tags" in str(response.context["form"].non_field_errors())
    assert not Tag.objects.filter(name="One too many").exists()


def test_an_editor_creates_a_tag(as_editor, connected_world, tags):
    cw = connected_world
    response = as_editor.post(url(cw, "tag_create"), {"name": "Spring fair"}, follow=True)
    assert "Tag “Spring fair” created." in response.content.decode()
    assert Tag.objects.get(workspace=cw.workspace, name="Spring fair").cc_id == (
        upstream_tags(cw)["Spring fair"]["tag_id"])


def test_a_duplicate_name_is_an_error_on_the_name(as_editor, connected_world, tags):
    response = as_editor.post(url(connected_world, "tag_create"), {"name": "Webinar"})
    assert "already has a tag with this name" in response.context["form"].errors["name"][0]
    assert Tag.objects.filter(workspace=connected_world.workspace).count() == 10


def test_an_editor_renames_a_tag(as_editor, connected_world, tags):
    cw, lead = connected_world, tags["lead"]
    form = as_editor.get(url(cw, "tag_edit", tag_id=lead.pk))
    assert form.context["form"]["name"].value() == "lead"
    response = as_editor.post(url(cw, "tag_edit", tag_id=lead.pk), {"name": "Web lead"},
                              follow=True)
    assert "Tag “lead” renamed to “Web lead”." in response.content.decode()
    lead.refresh_from_db()
    assert lead.name == "Web lead"
    assert "Web lead" in upstream_tags(cw)


def test_a_rename_that_fails_upstream_changes_nothing(as_editor, connected_world, tags,
                                                      no_backoff):
    cw, lead = connected_world, tags["lead"]
    cw.control("POST", "faults", error_rate_503=1.0)
    response = as_editor.post(url(cw, "tag_edit", tag_id=lead.pk), {"name": "Web lead"})
    assert "did not answer in time" in str(response.context["form"].non_field_errors())
    lead.refresh_from_db()
    assert lead.name == "lead"


def test_delete_shows_the_tag_as_deleting_until_the_activity_is_done(as_editor, connected_world,
                                                                     tags):
    cw, webinar = connected_world, tags["webinar"]
    confirm = as_editor.get(url(cw, "tag_delete", tag_id=webinar.pk)).content.decode()
    assert f"the {webinar.contacts_count} contact" in confirm
    html = as_editor.post(url(cw, "tag_delete", tag_id=webinar.pk), follow=True).content.decode()
    assert "Deleting…" in html
    status_url = url(cw, "tag_delete_status", tag_id=webinar.pk)
    assert f'hx-post="{status_url}"' in html
    assert as_editor.post(status_url, **HX).status_code == 200
    cw.sim.advance(60)
    done = as_editor.post(status_url, **HX)
    assert (done.status_code, done.content) == (286, b"")
    assert not Tag.objects.filter(pk=webinar.pk).exists()


def test_a_viewer_reads_the_tags_but_may_not_change_them(client, connected_world, tags):
    cw, lead = connected_world, tags["lead"]
    client.force_login(cw.viewer)
    html = client.get(url(cw, "tag_index")).content.decode()
    assert "lead" in html and "New tag" not in html and "Rename" not in html
    assert client.get(url(cw, "tag_create")).status_code == 403
    assert client.post(url(cw, "tag_create"), {"name": "x"}).status_code == 403
    assert client.post(url(cw, "tag_edit", tag_id=lead.pk), {"name": "x"}).status_code == 403
    assert client.post(url(cw, "tag_delete", tag_id=lead.pk)).status_code == 403
    assert "lead" in upstream_tags(cw)


def test_outsiders_do_not_learn_the_workspace_exists(client, connected_world, tags):
    client.force_login(connected_world.outsider)
    assert client.get(url(connected_world, "tag_index")).status_code == 404
    assert client.get(url(connected_world, "tag_edit",
                          tag_id=tags["lead"].pk)).status_code == 404


def test_a_throttled_upstream_asks_to_try_again_and_mirrors_nothing(as_editor, connected_world,
                                                                    monkeypatch):
    def busy(**kwargs):
        raise Throttled(status=429, error_key="throttled")

    monkeypatch.setattr(tag_services, "tag_create", busy)
    response = as_editor.post(url(connected_world, "tag_create"), {"name": "Later"})
    assert "please try again in a moment" in str(response.context["form"].non_field_errors())
    assert not Tag.objects.filter(name="Later").exists()
